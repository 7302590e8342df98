terraform {
  required_version = ">= 1.9.0"

  required_providers {
    # The provider release the test suite applies these modules with (the root's lock file pins it). Older
    # releases lack arguments the modules use and are not tested, so they are not claimed.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0"
    }
  }
}
