terraform {
  required_version = ">= 1.11.0"

  required_providers {
    # Pinned to the 5.100 line the lock file and the test suite use. The modules also accept 6.x (>= 5.100, < 7.0;
    # docs/design.md, "Provider versions"): moving the root there is a change of this pin and of the lock file.
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
