terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

# No provider block here: the stack (the root module, called below as a module) configures hashicorp/aws itself,
# from its aws_region and tags inputs (terraform/providers.tf). See ../README.md.
