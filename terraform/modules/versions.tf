# The provider constraint of the firehose, iam, lambda, opensearch and s3 modules, declared once: each of those
# modules' versions.tf is a relative symlink to this file, so the claim cannot drift between them. (The ingester
# module keeps its own versions.tf: it needs Terraform >= 1.11.) This directory is not itself a module.
terraform {
  required_version = ">= 1.9.0"

  required_providers {
    # 5.100 is the release the test suite applies these modules with (the root's lock file pins it); older
    # releases lack arguments the modules use and are not tested, so they are not claimed. The modules use nothing
    # 6.x removes or deprecates (docs/design.md, "Provider versions"), so a caller may choose either line.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
