output "opensearch_endpoint" {
  description = "Host name of the domain's HTTPS endpoint, resolvable inside the VPC."
  value       = module.pipeline.opensearch_endpoint
}

output "delivery_stream_name" {
  description = "Firehose delivery stream the ingester writes to."
  value       = module.pipeline.delivery_stream_name
}

output "ingester_instance_id" {
  description = "Instance ID of the ingester (no public address: aws ssm start-session --target <id>)."
  value       = module.pipeline.ingester_instance_id
}
