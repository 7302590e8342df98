terraform {
  required_version = ">= 1.11.0"

  required_providers {
    # As ../versions.tf (the other modules' constraint): 5.100 is tested; 6.x is accepted (docs/design.md,
    # "Provider versions").
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
