output "sns_topic_arn" {
  description = "ARN of the alarm topic: subscribe a pager, chat or ticketing integration here besides the emails."
  value       = aws_sns_topic.this.arn
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key that encrypts the alarm topic (a publisher other than CloudWatch needs kms:GenerateDataKey on it)."
  value       = aws_kms_key.topic.arn
}

output "alarm_names" {
  description = "Names of the alarms, by their key in the module (docs/operate.md lists what each watches)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the pipeline-health CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the pipeline-health dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this.dashboard_name}"
}

output "sentiment_alert_role_arn" {
  description = "ARN of the IAM role OpenSearch assumes to publish the negative-sentiment alert to the topic (the SNS channel's role_arn; make opensearch-setup reads it)."
  value       = aws_iam_role.sentiment_alert.arn
}
