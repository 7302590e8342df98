output "firehose_role_arn" {
  description = "ARN of the Firehose delivery role (map it as an OpenSearch backend role)."
  value       = aws_iam_role.firehose.arn
}

output "firehose_role_name" {
  description = "Name of the Firehose delivery role."
  value       = aws_iam_role.firehose.name
}

output "ingester_role_arn" {
  description = "ARN of the ingester instance role."
  value       = aws_iam_role.ingester.arn
}

output "ingester_instance_profile_name" {
  description = "Name of the ingester's instance profile."
  value       = aws_iam_instance_profile.ingester.name
}

output "firehose_policy_ids" {
  description = "IDs of the Firehose role's inline policies; depend on them so the stream is created only once the role can deliver."
  value = concat(
    [
      aws_iam_role_policy.firehose_s3.id,
      aws_iam_role_policy.firehose_opensearch.id,
      aws_iam_role_policy.firehose_lambda.id,
      aws_iam_role_policy.firehose_logs.id,
    ],
    aws_iam_role_policy.firehose_vpc[*].id,
  )
}
