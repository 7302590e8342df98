output "dashboards_url" {
  description = "URL of OpenSearch Dashboards (sign in with a Cognito user: make dashboards-user EMAIL=...)."
  value       = module.pipeline.dashboards_url
}

output "delivery_stream_name" {
  description = "Firehose delivery stream the ingester writes to."
  value       = module.pipeline.delivery_stream_name
}

output "ingester_instance_id" {
  description = "Instance ID of the ingester (aws ssm start-session --target <id>)."
  value       = module.pipeline.ingester_instance_id
}
