output "environment" {
  description = "Generated environment name."
  value       = random_pet.environment.id
}
