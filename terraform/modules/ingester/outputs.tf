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
  description = "Name of the SSM SecureString parameter holding the X bearer token."
  value       = aws_ssm_parameter.x_bearer_token.name
}

output "x_bearer_token_parameter_arn" {
  description = "ARN of the SSM SecureString parameter holding the X bearer token."
  value       = aws_ssm_parameter.x_bearer_token.arn
}

output "bundle_s3_uri" {
  description = "S3 URI of the uploaded ingester bundle."
  value       = "s3://${aws_s3_object.bundle.bucket}/${aws_s3_object.bundle.key}"
}

output "ami_id" {
  description = "AMI the instance was launched from."
  value       = aws_instance.this.ami
}
