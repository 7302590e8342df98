# The versions of every example, declared once: each example's versions.tf is a relative symlink to this file (as the
# modules' are to ../modules/versions.tf). This directory is not itself a root.
terraform {
  # The stack (the root module the examples call) needs Terraform >= 1.11.
  required_version = ">= 1.11.0"

  required_providers {
    # What the modules accept; the stack's own ~> 5.100 pin narrows it to 5.x for now (docs/design.md, "Provider
    # versions").
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

# No provider block in an example: the stack configures hashicorp/aws itself, from its aws_region and tags inputs
# (terraform/providers.tf). See README.md.
