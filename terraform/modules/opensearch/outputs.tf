output "domain_arn" {
  description = "ARN of the domain."
  value       = aws_opensearch_domain.this.arn
}

output "domain_name" {
  description = "Name of the domain."
  value       = aws_opensearch_domain.this.domain_name
}

output "domain_endpoint" {
  description = "Host name of the domain's HTTPS endpoint (no scheme)."
  value       = aws_opensearch_domain.this.endpoint
}

output "dashboards_url" {
  description = "URL of OpenSearch Dashboards; users sign in with their Cognito user (e-mail address)."
  value       = "https://${aws_opensearch_domain.this.endpoint}/_dashboards/"
}

output "admin_role_arn" {
  description = "ARN of the IAM role that is the domain's master user; assume it to administer the domain."
  value       = aws_iam_role.admin.arn
}

output "dashboards_user_role_arn" {
  description = "ARN of the IAM role signed-in Dashboards users get (Cognito authenticated role); map it as a backend role."
  value       = aws_iam_role.dashboards_user.arn
}

output "cognito_user_pool_id" {
  description = "ID of the Cognito user pool of the Dashboards users (add users with cognito-idp admin-create-user)."
  value       = aws_cognito_user_pool.dashboards.id
}

output "cognito_identity_pool_id" {
  description = "ID of the Cognito identity pool that gives Dashboards users the dashboards_user role."
  value       = aws_cognito_identity_pool.dashboards.id
}

output "cognito_login_domain" {
  description = "Host name of the Cognito hosted login page Dashboards redirects to."
  value       = "${aws_cognito_user_pool_domain.dashboards.domain}.auth.${data.aws_service.current.region}.amazoncognito.com"
}

output "log_group_names" {
  description = "CloudWatch log groups the domain publishes to, by log type."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "service_assume_role_policy_json" {
  description = "Trust policy for a role OpenSearch Service assumes on behalf of this domain only (es.amazonaws.com with aws:SourceAccount and aws:SourceArn), e.g. to publish alerts to SNS."
  value       = data.aws_iam_policy_document.service_for_this_domain["service_assume"].json
}
