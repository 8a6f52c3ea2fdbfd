variable "team" {
  description = "Team that owns this environment."
  type        = string
  default     = "platform"
}
