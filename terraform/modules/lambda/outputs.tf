output "function_name" {
  description = "Name of the transform function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the transform function."
  value       = aws_lambda_function.this.arn
}

output "function_qualified_arn" {
  description = "ARN of the function's $LATEST version, as the Firehose processor references it."
  value       = "${aws_lambda_function.this.arn}:$LATEST"
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}
