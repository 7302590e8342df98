output "instance_id" {
  description = "ID of the ingester instance."
  value       = aws_instance.this.id
}

output "public_ip" {
  description = "Public IPv4 address of the instance; empty string when it has none."
  value       = aws_instance.this.public_ip
}

output "private_ip" {
  description = "Private IPv4 address of the instance."
  value       = aws_instance.this.private_ip
}

output "security_group_id" {
  description = "ID of the instance's security group."
  value       = aws_security_group.this.id
}

output "x_bearer_token_parameter_name" {
  description = "Name of the SSM SecureString parameter the ingester reads the X bearer token from (put by `make x-token`, not by Terraform)."
  value       = var.x_bearer_token_parameter_name
}

output "x_bearer_token_parameter_arn" {
  description = "ARN of the SSM SecureString parameter holding the X bearer token (the encryption context the key policy requires)."
  value       = local.token_parameter_arn
}

output "x_bearer_token_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the X bearer token (only the ingester role may decrypt)."
  value       = aws_kms_key.token.arn
}

output "x_bearer_token_kms_key_alias" {
  description = "Alias of the token's KMS key, the --key-id `make x-token` passes to put-parameter."
  value       = aws_kms_alias.token.name
}

output "bundle_s3_uri" {
  description = "S3 URI of the uploaded ingester bundle."
  value       = "s3://${aws_s3_object.bundle.bucket}/${aws_s3_object.bundle.key}"
}

output "ami_id" {
  description = "AMI the instance was launched from."
  value       = aws_instance.this.ami
}

output "upgrade_document_name" {
  description = "Name of the SSM Command document that installs a bundle in place (`make upgrade-ingester`; parameter BundleSha256)."
  value       = aws_ssm_document.upgrade.name
}

output "bundle_bucket" {
  description = "Bucket of the ingester bundle (`make upgrade-ingester` uploads here)."
  value       = aws_s3_object.bundle.bucket
}

output "bundle_key" {
  description = "Object key of the ingester bundle (`make upgrade-ingester` uploads here; the bucket keeps earlier versions)."
  value       = aws_s3_object.bundle.key
}

output "upgrade_operator_policy_json" {
  description = "IAM policy (JSON) that lets an operator run `make upgrade-ingester` and nothing more: s3:PutObject on the bundle key, ssm:SendCommand on the upgrade document and this instance, ssm:GetCommandInvocation."
  value       = data.aws_iam_policy_document.upgrade_operator.json
}

output "state_volume_id" {
  description = "ID of the EBS volume holding the ingester's state directory (WAL, spool); empty when state_volume_size = 0."
  value       = var.state_volume_size > 0 ? aws_ebs_volume.state[0].id : ""
}
