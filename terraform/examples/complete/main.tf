# The whole pipeline with its defaults (X filtered stream, embedded sentiment model, public OpenSearch domain
# behind an IP allow-list and a Cognito login, alarms and dashboard), as a consumer of the stack would call it.

# No provider block: the stack configures hashicorp/aws itself from aws_region and tags (../README.md).
module "pipeline" {
  source = "../.."

  aws_region               = "us-east-1"
  dashboards_allowed_cidrs = var.dashboards_allowed_cidrs
  alarm_emails             = var.alarm_emails
  tags                     = { Example = "complete" }
}
