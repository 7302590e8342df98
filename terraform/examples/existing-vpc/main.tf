# The stack inside a VPC you already have: the OpenSearch domain in your private subnets (Firehose delivers to it
# through the same subnets and security groups), the ingester in one of them without a public address. The
# subnets need outbound HTTPS (a NAT gateway, or VPC endpoints for the AWS APIs plus a route to X or Bluesky).

# No provider block: the stack configures hashicorp/aws itself from aws_region and tags (../README.md).
module "pipeline" {
  source = "../.."

  aws_region = "us-east-1"

  opensearch_vpc = {
    subnet_ids         = var.vpc.private_subnet_ids
    security_group_ids = var.vpc.security_group_ids
  }
  # A domain in a VPC has no public endpoint: no allow-list (the plan refuses one); Dashboards is reached
  # from inside the VPC (VPN, Direct Connect or a bastion), still behind the Cognito login.
  dashboards_allowed_cidrs = []

  ingester_subnet_id           = var.vpc.private_subnet_ids[0]
  ingester_associate_public_ip = false

  tags = { Example = "existing-vpc" }
}
