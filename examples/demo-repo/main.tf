# A small Terraform root module that plans without any cloud account: random, local and the built-in
# terraform_data. The offline demo (`npm run demo`) and the end-to-end tests let infra-agent change it.
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    random = {
      source = "hashicorp/random"
    }
    local = {
      source = "hashicorp/local"
    }
  }
}

resource "random_pet" "environment" {
  length = 2
}

resource "terraform_data" "settings" {
  input = {
    environment = random_pet.environment.id
    team        = var.team
  }
}
