# The versions every module and every example declares, once: each module's versions.tf and examples/versions.tf
# (which each example's versions.tf links to) are relative symlinks to this file, so the claim cannot drift between
# them. This directory is not itself a module.
terraform {
  # The ingester module and the root (which the examples call) need 1.11; the suite runs 1.11.
  required_version = ">= 1.11.0"

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
