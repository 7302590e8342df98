# Bluesky only: the ingester reads Bluesky's public Jetstream (free, no token to put) and keeps the posts that
# match tracked_terms; nothing is read from X. The rest of the pipeline is the stack's default.

# No provider block: the stack configures hashicorp/aws itself from aws_region and tags (../README.md).
module "pipeline" {
  source = "../.."

  aws_region               = "us-east-1"
  name_prefix              = "bluesky-sentiment"
  ingester_source          = "bluesky"
  tracked_terms            = ["aws", "amazon web services"]
  dashboards_allowed_cidrs = var.dashboards_allowed_cidrs
  tags                     = { Example = "bluesky" }
}
