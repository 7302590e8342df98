output "dashboards_url" {
  description = "URL of OpenSearch Dashboards (sign in with a Cognito user: make dashboards-user EMAIL=...)."
  value       = module.pipeline.dashboards_url
}

output "delivery_stream_name" {
  description = "Firehose delivery stream the ingester writes to."
  value       = module.pipeline.delivery_stream_name
}

output "x_bearer_token_parameter_name" {
  description = "SSM parameter to put the X bearer token in (make x-token) before the ingester can read X."
  value       = module.pipeline.x_bearer_token_parameter_name
}

output "monitoring_sns_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = module.pipeline.monitoring_sns_topic_arn
}
