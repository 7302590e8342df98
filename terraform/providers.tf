provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(
      {
        Project   = "tweet-sentiment"
        ManagedBy = "terraform"
        Stack     = var.name_prefix
      },
      var.tags,
    )
  }
}
