# Bluesky only: the ingester reads Bluesky's public Jetstream (free, no token to put) and keeps the posts that
# match tracked_terms; nothing is read from X. The rest of the pipeline is the stack's default.

module "pipeline" {
  source = "../.."

  aws_region               = var.aws_region
  name_prefix              = var.name_prefix
  ingester_source          = "bluesky"
  tracked_terms            = var.tracked_terms
  dashboards_allowed_cidrs = var.dashboards_allowed_cidrs
  tags                     = { Example = "bluesky" }
}
