# OpenSearch Dashboards login through Amazon Cognito. Terraform creates the pools and no user:
# administrators add users out of band (`make dashboards-user EMAIL=...`, i.e. cognito-idp
# admin-create-user), Cognito emails each a temporary password and asks for a new one at the first
# login, so no password passes through Terraform or its state.
#
# OpenSearch Service completes the set-up itself when the domain's cognito_options are applied: it
# creates an app client in the user pool and registers it as the identity pool's provider.

locals {
  cognito_domain_prefix = coalesce(var.auth.cognito_domain_prefix, "${var.domain_name}-${local.account_id}")
}

resource "aws_cognito_user_pool" "dashboards" {
  name = "${var.domain_name}-dashboards"

  # Users sign in with their e-mail address, which receives the invitation.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  username_configuration {
    case_sensitive = false
  }

  # Nobody can sign up: only administrators create users.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  # TOTP (authenticator app) MFA; the login page walks a user through setting it up when it is "ON".
  mfa_configuration = var.auth.dashboards_mfa_configuration

  dynamic "software_token_mfa_configuration" {
    for_each = var.auth.dashboards_mfa_configuration == "OFF" ? [] : [true]

    content {
      enabled = software_token_mfa_configuration.value
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = var.tags
}

# The hosted login page OpenSearch redirects Dashboards users to. Cognito domain prefixes are unique
# per Region across all accounts, hence the account ID in the default.
resource "aws_cognito_user_pool_domain" "dashboards" {
  domain       = local.cognito_domain_prefix
  user_pool_id = aws_cognito_user_pool.dashboards.id

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", local.cognito_domain_prefix)) && !can(regex("aws|amazon|cognito", local.cognito_domain_prefix))
      error_message = "The Cognito domain prefix must be 1-63 lowercase letters, digits and hyphens (no leading or trailing hyphen) and must not contain aws, amazon or cognito (Cognito limits); set auth.cognito_domain_prefix."
    }
  }
}

resource "aws_cognito_identity_pool" "dashboards" {
  identity_pool_name               = "${var.domain_name}-dashboards"
  allow_unauthenticated_identities = false
  allow_classic_flow               = false

  tags = var.tags

  # OpenSearch Service registers its own app client of the user pool here when it enables Cognito
  # authentication; Terraform must not remove it.
  lifecycle {
    ignore_changes = [cognito_identity_providers]
  }
}

resource "aws_cognito_identity_pool_roles_attachment" "dashboards" {
  identity_pool_id = aws_cognito_identity_pool.dashboards.id

  roles = {
    authenticated = aws_iam_role.dashboards_user.arn
  }
}
