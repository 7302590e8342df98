output "aws_region" {
  description = "Region the stack is deployed in."
  value       = var.aws_region
}

output "opensearch_endpoint" {
  description = "Host name of the OpenSearch domain's HTTPS endpoint (no scheme)."
  value       = module.opensearch.domain_endpoint
}

output "dashboards_url" {
  description = "URL of OpenSearch Dashboards; users sign in with a Cognito user (make dashboards-user EMAIL=...)."
  value       = module.opensearch.dashboards_url
}

output "opensearch_admin_role_arn" {
  description = "IAM role that is the OpenSearch master user; make opensearch-setup assumes it (SigV4)."
  value       = module.opensearch.admin_role_arn
}

output "dashboards_user_role_arn" {
  description = "IAM role of signed-in Dashboards users; the OpenSearch setup maps it as a backend role of the reader roles."
  value       = module.opensearch.dashboards_user_role_arn
}

output "cognito_user_pool_id" {
  description = "Cognito user pool of the Dashboards users (make dashboards-user EMAIL=... adds one)."
  value       = module.opensearch.cognito_user_pool_id
}

output "index_name_prefix" {
  description = "Index name prefix Firehose writes (indices <prefix>-YYYY-MM-DD); the OpenSearch setup's template and ISM policy match <prefix>-*."
  value       = var.index_name
}

output "retention_days" {
  description = "Days indices are kept; the OpenSearch setup applies it as an ISM delete policy."
  value       = var.retention_days
}

output "delivery_stream_name" {
  description = "Name of the Firehose delivery stream the ingester writes to."
  value       = module.firehose.delivery_stream_name
}

output "delivery_stream_arn" {
  description = "ARN of the Firehose delivery stream."
  value       = module.firehose.delivery_stream_arn
}

output "firehose_role_arn" {
  description = "ARN of the Firehose delivery role; the OpenSearch setup maps it as a backend role of the writer role."
  value       = module.iam.firehose_role_arn
}

output "firehose_log_group_name" {
  description = "CloudWatch log group of Firehose delivery and backup errors."
  value       = module.firehose.log_group_name
}

output "backup_bucket_name" {
  description = "Bucket with failed records under processing-failed/ and AmazonOpenSearchService-failed/ (read by the redrive tool)."
  value       = module.s3.bucket_name
}

output "artifacts_bucket_name" {
  description = "Bucket holding the ingester bundle the instance installs from."
  value       = module.artifacts.bucket_name
}

output "transform_function_name" {
  description = "Name of the transform Lambda function."
  value       = module.lambda.function_name
}

output "ingester_instance_id" {
  description = "Instance ID of the ingester (aws ssm start-session --target <id>)."
  value       = module.ingester.instance_id
}

output "ingester_upgrade_document_name" {
  description = "SSM Command document `make upgrade-ingester` runs on the ingester (installs a bundle in place; parameter BundleSha256)."
  value       = module.ingester.upgrade_document_name
}

output "ingester_bundle_key" {
  description = "Object key of the ingester bundle in artifacts_bucket_name (`make upgrade-ingester` uploads here)."
  value       = module.ingester.bundle_key
}

output "ingester_upgrade_operator_policy_json" {
  description = "Least-privilege IAM policy (JSON) for whoever runs `make upgrade-ingester`: put the bundle, run the upgrade document on this instance, read its result."
  value       = module.ingester.upgrade_operator_policy_json
}

output "ingester_public_ip" {
  description = "Public IPv4 address of the ingester; empty string when it has none."
  value       = module.ingester.public_ip
}

output "ssh_command" {
  description = "Ready-to-paste shell command for the ingester: ssh when a public IP and ssh_allowed_cidrs make SSH possible, otherwise a Session Manager session (needs the session-manager-plugin). `make ssh` runs it."
  value = (
    module.ingester.public_ip != "" && length(var.ssh_allowed_cidrs) > 0
    ? join(" ", compact([
      "ssh",
      var.ssh_key_name != null ? "-i ~/.ssh/${var.ssh_key_name}.pem" : "",
      "ec2-user@${module.ingester.public_ip}",
    ]))
    : "aws ssm start-session --region ${var.aws_region} --target ${module.ingester.instance_id}"
  )
}

output "x_bearer_token_parameter_name" {
  description = "SSM SecureString parameter the ingester reads the X bearer token from; Terraform does not create it: `make x-token` puts it."
  value       = module.ingester.x_bearer_token_parameter_name
}

output "x_bearer_token_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the X bearer token; only the ingester role may decrypt with it."
  value       = module.ingester.x_bearer_token_kms_key_arn
}

output "x_bearer_token_kms_key_alias" {
  description = "Alias of the X bearer token's KMS key (`make x-token` encrypts the parameter with it)."
  value       = module.ingester.x_bearer_token_kms_key_alias
}

output "monitoring_sns_topic_arn" {
  description = "SNS topic every alarm notifies (null when monitoring_enabled is false)."
  value       = one(module.monitoring[*].sns_topic_arn)
}

output "sentiment_alert" {
  description = "Thresholds of the negative-sentiment alert (window_minutes, negative_percent, min_posts); make opensearch-setup applies them to the OpenSearch monitor."
  value       = var.sentiment_alert
}

output "sentiment_alert_role_arn" {
  description = "IAM role OpenSearch assumes to publish the negative-sentiment alert to monitoring_sns_topic_arn (null when monitoring_enabled is false)."
  value       = one(module.monitoring[*].sentiment_alert_role_arn)
}

output "monitoring_dashboard_url" {
  description = "Console URL of the pipeline-health CloudWatch dashboard (null when monitoring_enabled is false)."
  value       = one(module.monitoring[*].dashboard_url)
}

output "ingester_role_arn" {
  description = "The ingester's instance role: make opensearch-setup maps it to the tweets_deleter security role (delete-by-query on tweets-* only), so its deleter can remove deleted posts."
  value       = module.iam.ingester_role_arn
}
