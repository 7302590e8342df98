# IAM roles of the domain's authentication: the master user (admin), the role OpenSearch uses to
# configure Cognito, and the role Cognito hands to signed-in Dashboards users. None of them carries
# an identity-based permission to the domain: what each may do inside OpenSearch is decided by
# fine-grained access control (master user; role mappings applied by `make opensearch-setup`), and
# which networks may reach the endpoint by the domain's access policy.

# Who runs Terraform, as a principal a trust policy can name: for an assumed-role session (SSO, a CI role) the role
# with its path, otherwise the IAM user itself.
data "aws_iam_session_context" "deployer" {
  arn = data.aws_caller_identity.current.arn
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Empty list = the identity that applies Terraform, the one `make deploy` then runs `make opensearch-setup` as.
  # Not the account root: trusting "arn:...:root" delegates to every IAM policy of the account, so anyone allowed
  # sts:AssumeRole on "*" (PowerUserAccess, many CI roles) would become the domain's master user.
  admin_principal_arns = length(var.auth.admin_principal_arns) > 0 ? var.auth.admin_principal_arns : [data.aws_iam_session_context.deployer.issuer_arn]
  deployer_is_root     = endswith(data.aws_iam_session_context.deployer.issuer_arn, ":root")
}

# ---------------------------------------------------------------------------------------------------
# Master user: an IAM role assumed by the team's administrators and by `make opensearch-setup`
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "admin_assume" {
  statement {
    sid     = "AssumeFromAdministrators"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = local.admin_principal_arns
    }
  }
}

resource "aws_iam_role" "admin" {
  name                 = "${var.domain_name}-opensearch-admin"
  description          = "Master user of OpenSearch domain ${var.domain_name} (fine-grained access control); assume it to administer the domain"
  assume_role_policy   = data.aws_iam_policy_document.admin_assume.json
  max_session_duration = 3600

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(var.auth.admin_principal_arns) > 0 || !local.deployer_is_root
      error_message = "Terraform runs as the account's root user, so by default the OpenSearch admin role would trust the whole account: set opensearch_admin_principal_arns (this module's auth.admin_principal_arns) to the roles or users that administer the domain (or apply as an IAM role or user)."
    }
  }
}

# The admin role creates the alert's SNS channel (`make opensearch-setup`), which names the role OpenSearch Service
# assumes to publish: passing that role is iam:PassRole for the caller, to OpenSearch Service only.
data "aws_iam_policy_document" "admin_pass_role" {
  count = length(var.roles.admin_may_pass_arns) > 0 ? 1 : 0

  statement {
    sid       = "PassTheAlertRoleToOpenSearch"
    actions   = ["iam:PassRole"]
    resources = var.roles.admin_may_pass_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["es.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "admin_pass_role" {
  count = length(var.roles.admin_may_pass_arns) > 0 ? 1 : 0

  name   = "pass-alert-role"
  role   = aws_iam_role.admin.id
  policy = data.aws_iam_policy_document.admin_pass_role[0].json
}

# ---------------------------------------------------------------------------------------------------
# Service role OpenSearch assumes to configure the user pool and identity pool
# ---------------------------------------------------------------------------------------------------

# What OpenSearch Service (es.amazonaws.com) may do for this domain, with confused-deputy protection as AWS documents
# it for the service, written once for both documents: only this account's domain of this name may act.
#   service_assume: the trust of every role the service assumes for the domain (the Cognito role here; the role that
#     publishes the negative-sentiment alert, terraform/modules/monitoring, takes it from the
#     service_assume_role_policy_json output).
#   log_publishing: the CloudWatch Logs resource policy letting it write the domain's log groups (main.tf).
locals {
  service_for_this_domain = {
    service_assume = { sid = "OpenSearchServiceForThisDomain", actions = ["sts:AssumeRole"], resources = null }
    log_publishing = {
      sid       = "OpenSearchLogPublishing"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = [for g in aws_cloudwatch_log_group.this : "${g.arn}:*"]
    }
  }
}

data "aws_iam_policy_document" "service_for_this_domain" {
  for_each = local.service_for_this_domain

  statement {
    sid       = each.value.sid
    actions   = each.value.actions
    resources = each.value.resources

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.domain_arn]
    }
  }
}

resource "aws_iam_role" "cognito" {
  name               = "${var.domain_name}-opensearch-cognito"
  description        = "Lets OpenSearch Service configure the Cognito user and identity pools of domain ${var.domain_name}"
  assume_role_policy = data.aws_iam_policy_document.service_for_this_domain["service_assume"].json

  tags = var.tags
}

# The AWS-managed policy OpenSearch Service requires for this role (cognito-idp/cognito-identity calls
# on the pools, and iam:PassRole of the identity pool's roles to cognito-identity.amazonaws.com only).
resource "aws_iam_role_policy_attachment" "cognito" {
  role       = aws_iam_role.cognito.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonOpenSearchServiceCognitoAccess"
}

# ---------------------------------------------------------------------------------------------------
# Role of signed-in Dashboards users (the identity pool's authenticated role)
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "dashboards_user_assume" {
  statement {
    sid     = "SignedInUsersOfThisIdentityPool"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = ["cognito-identity.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "cognito-identity.amazonaws.com:aud"
      values   = [aws_cognito_identity_pool.dashboards.id]
    }

    condition {
      test     = "ForAnyValue:StringLike"
      variable = "cognito-identity.amazonaws.com:amr"
      values   = ["authenticated"]
    }
  }
}

resource "aws_iam_role" "dashboards_user" {
  name               = "${var.domain_name}-dashboards-user"
  description        = "Signed-in Dashboards users of domain ${var.domain_name}; mapped to OpenSearch roles by make opensearch-setup"
  assume_role_policy = data.aws_iam_policy_document.dashboards_user_assume.json

  tags = var.tags
}
