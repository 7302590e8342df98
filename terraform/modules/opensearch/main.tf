# OpenSearch Service domain for the tweet documents: encrypted at rest and in transit, HTTPS with
# TLS 1.2+, fine-grained access control whose master user is an IAM role (iam.tf), and OpenSearch
# Dashboards behind an Amazon Cognito login (cognito.tf). No password exists anywhere in this module,
# so none can reach the Terraform state: the state holds only identifiers (ARNs and pool IDs).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# The provider's Region: aws_service.region reads it on hashicorp/aws 5.100 and 6.x alike (aws_region.name is
# deprecated in 6.x, its successor aws_region.region absent from 5.x: docs/design.md, "Provider versions").
data "aws_service" "current" { service_id = "ec2" }

locals {
  domain_arn = "arn:${data.aws_partition.current.partition}:es:${data.aws_service.current.region}:${data.aws_caller_identity.current.account_id}:domain/${var.domain_name}"

  auto_tune_supported = !can(regex("^t[23]\\.", var.cluster.instance_type))
  in_vpc              = var.endpoint.vpc != null

  http_actions = [
    "es:ESHttpDelete",
    "es:ESHttpGet",
    "es:ESHttpHead",
    "es:ESHttpPatch",
    "es:ESHttpPost",
    "es:ESHttpPut",
  ]
}

# ---------------------------------------------------------------------------------------------------
# Log publishing
# ---------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs with AWS-owned keys; a customer-managed key adds cost and a key policy for the es service without a threat it addresses here.
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): operational logs, not an audit trail.
  for_each = toset(var.logs.types)

  name              = "/aws/OpenSearchService/domains/${var.domain_name}/${lower(each.key)}"
  retention_in_days = var.logs.retention_days

  tags = var.tags
}

# CloudWatch Logs allows 10 resource policies per account and Region (a quota that cannot be raised), and
# each stack would use one. With logs.resource_policy = "existing" the stack creates none and relies on one
# policy, created once per account and Region, that lets es.amazonaws.com write to every log group under
# /aws/OpenSearchService/domains/ (the module README shows it).
resource "aws_cloudwatch_log_resource_policy" "this" {
  count = length(var.logs.types) > 0 && var.logs.resource_policy == "create" ? 1 : 0

  policy_name     = "${var.domain_name}-opensearch-logs"
  policy_document = data.aws_iam_policy_document.service_for_this_domain["log_publishing"].json
}

# ---------------------------------------------------------------------------------------------------
# Domain
# ---------------------------------------------------------------------------------------------------

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV2_AWS_59:Dedicated masters are a variable (cluster.dedicated_master_enabled); three extra nodes would triple the cost of the small default domain.
  #checkov:skip=CKV_AWS_318:Dedicated masters are a variable (cluster.dedicated_master_enabled); three extra nodes would triple the cost of the small default domain.
  #checkov:skip=CKV_AWS_247:Encryption at rest uses the AWS-managed OpenSearch key; a customer-managed key adds cost and key-policy management without a reader outside this account.
  #checkov:skip=CKV_AWS_137:A VPC is a variable (endpoint.vpc); the default public endpoint admits only the required source-IP allow-list (endpoint.allowed_cidrs) and the writer roles, and fine-grained access control authenticates every request, so Dashboards is reachable without a VPN.
  #checkov:skip=CKV_AWS_317:Audit logs are a variable (add AUDIT_LOGS to logs.types); they need audit configuration in the security plugin and add CloudWatch cost.
  domain_name    = var.domain_name
  engine_version = var.cluster.engine_version

  cluster_config {
    instance_type          = var.cluster.instance_type
    instance_count         = var.cluster.instance_count
    zone_awareness_enabled = var.cluster.zone_awareness_enabled

    dynamic "zone_awareness_config" {
      for_each = var.cluster.zone_awareness_enabled ? [var.cluster.availability_zone_count] : []

      content {
        availability_zone_count = zone_awareness_config.value
      }
    }

    dedicated_master_enabled = var.cluster.dedicated_master_enabled
    dedicated_master_type    = var.cluster.dedicated_master_enabled ? var.cluster.dedicated_master_type : null
    dedicated_master_count   = var.cluster.dedicated_master_enabled ? var.cluster.dedicated_master_count : null
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.cluster.volume_size
  }

  encrypt_at_rest {
    enabled = true
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = var.endpoint.tls_security_policy
  }

  # The master user is an IAM role (AWS allows a master user ARN only with the internal user database
  # off), so no master password exists. Requests signed with SigV4 as that role have full access.
  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false

    master_user_options {
      master_user_arn = aws_iam_role.admin.arn
    }
  }

  # Dashboards does not support IAM sign-in itself: with an IAM master user AWS documents Amazon
  # Cognito (or SAML) as the Dashboards login. Cognito users get the dashboards_user role's
  # credentials, which `make opensearch-setup` maps to OpenSearch roles.
  cognito_options {
    enabled          = true
    user_pool_id     = aws_cognito_user_pool.dashboards.id
    identity_pool_id = aws_cognito_identity_pool.dashboards.id
    role_arn         = aws_iam_role.cognito.arn
  }

  # t2/t3 types support no Auto-Tune options at all, so the block is only sent for other types.
  dynamic "auto_tune_options" {
    for_each = local.auto_tune_supported ? [var.cluster.auto_tune_enabled] : []

    content {
      desired_state       = auto_tune_options.value ? "ENABLED" : "DISABLED"
      rollback_on_disable = "NO_ROLLBACK"
    }
  }

  dynamic "vpc_options" {
    for_each = var.endpoint.vpc == null ? [] : [var.endpoint.vpc]

    content {
      subnet_ids         = vpc_options.value.subnet_ids
      security_group_ids = vpc_options.value.security_group_ids
    }
  }

  dynamic "log_publishing_options" {
    for_each = aws_cloudwatch_log_group.this

    content {
      log_type                 = log_publishing_options.key
      cloudwatch_log_group_arn = log_publishing_options.value.arn
    }
  }

  timeouts {
    create = var.cluster.timeouts.create
    update = var.cluster.timeouts.update
    delete = var.cluster.timeouts.delete
  }

  tags = merge(var.tags, { Name = var.domain_name })

  # OpenSearch checks at create time that it can assume the Cognito role (policy attached), that the
  # user pool has a domain and that the identity pool has an authenticated role.
  depends_on = [
    aws_cloudwatch_log_resource_policy.this,
    aws_iam_role_policy_attachment.cognito,
    aws_cognito_user_pool_domain.dashboards,
    aws_cognito_identity_pool_roles_attachment.dashboards,
  ]
}

# Who may send HTTP requests to the domain. A public domain answers only the source addresses in
# endpoint.allowed_cidrs (a validation refuses an empty list, so a default deployment is never open to
# the internet) and the writer roles, whose signed requests come from AWS networks without a fixed
# address. Fine-grained access control then authenticates every request that gets this far. A VPC domain
# takes no IP conditions (OpenSearch Service refuses them there): its security groups decide who connects,
# and the policy lets any principal in, for fine-grained access control to authenticate.
# The resources name the ARN built from the domain name (equal to aws_opensearch_domain.this.arn) so the
# policy is known at plan time and shows in the plan.
data "aws_iam_policy_document" "access" {
  #checkov:skip=CKV_AWS_283:Principal "*" is limited to es:ESHttp* on this domain, and on a public domain to the endpoint.allowed_cidrs source addresses (aws:SourceIp condition); on a VPC domain the security groups restrict the network. Fine-grained access control authenticates every request either way.
  dynamic "statement" {
    for_each = local.in_vpc ? [] : [var.endpoint.allowed_cidrs]

    content {
      sid       = "HttpFromAllowedSources"
      actions   = local.http_actions
      resources = ["${local.domain_arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "IpAddress"
        variable = "aws:SourceIp"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = !local.in_vpc && length(var.roles.writer_arns) > 0 ? [var.roles.writer_arns] : []

    content {
      sid       = "HttpFromWriterRoles"
      actions   = local.http_actions
      resources = ["${local.domain_arn}/*"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = local.in_vpc ? ["vpc"] : []

    content {
      sid       = "HttpInsideTheVpc"
      actions   = local.http_actions
      resources = ["${local.domain_arn}/*"]

      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = aws_opensearch_domain.this.domain_name
  access_policies = data.aws_iam_policy_document.access.json

  timeouts {
    update = var.cluster.timeouts.update
    delete = var.cluster.timeouts.delete
  }
}
