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
  description = "URL of OpenSearch Dashboards (log in as the master user from the secret)."
  value       = "https://${aws_opensearch_domain.this.endpoint}/_dashboards/"
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the master user as JSON {\"username\", \"password\"}."
  value       = aws_secretsmanager_secret.master.arn
}

output "log_group_names" {
  description = "CloudWatch log groups the domain publishes to, by log type."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}
