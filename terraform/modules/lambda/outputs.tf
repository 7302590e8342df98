output "function_name" {
  description = "Name of the transform function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the transform function."
  value       = aws_lambda_function.this.arn
}

output "alias_arn" {
  description = "ARN of the `live` alias (the published version the Firehose processor invokes)."
  value       = aws_lambda_alias.live.arn
}

output "alias_name" {
  description = "Name of the alias Firehose invokes (AWS/Lambda reports its metrics with Resource = <function>:<alias>)."
  value       = aws_lambda_alias.live.name
}

output "function_version" {
  description = "Version number the `live` alias points at (published by the last apply)."
  value       = aws_lambda_function.this.version
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "role_arn" {
  description = "ARN of the function's execution role (created here, granted exactly the calls the function's settings make)."
  value       = aws_iam_role.execution.arn
}

output "role_name" {
  description = "Name of the function's execution role (the function's name)."
  value       = aws_iam_role.execution.name
}
