variable "name_prefix" {
  description = "Prefix of every role name (roles are <prefix>-firehose and <prefix>-ingester)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 characters valid in IAM role names (letters, digits, + = , . @ _ -); the longest role suffix is 24 characters of the 64 allowed."
  }
}

variable "backup_bucket_arn" {
  description = "ARN of the bucket Firehose writes failed records to."
  type        = string
}

variable "opensearch_domain_arn" {
  description = "ARN of the OpenSearch domain Firehose delivers to."
  type        = string
}

variable "index_name_prefix" {
  description = "Index name Firehose writes (rotated as <prefix>-YYYY-MM-DD); scopes the mapping and stats reads Firehose makes."
  type        = string
  default     = "tweets"
}

variable "delivery_stream_name" {
  description = "Name of the Firehose delivery stream (the ingester may put records into it only)."
  type        = string
}

variable "firehose_log_group_name" {
  description = "CloudWatch log group of the delivery stream's error logs."
  type        = string
}

variable "transform_function_name" {
  description = "Name of the transform Lambda function (the Firehose role may invoke it)."
  type        = string
}

variable "ingester_metrics_namespace" {
  description = "CloudWatch namespace the ingester may publish metrics to."
  type        = string
}

variable "ingester_ssm_parameter_names" {
  description = "Names of the SSM parameters the ingester reads (the X bearer token SecureString), each starting with '/'."
  type        = list(string)

  validation {
    condition     = alltrue([for n in var.ingester_ssm_parameter_names : startswith(n, "/")])
    error_message = "Each SSM parameter name must be a full path starting with '/'."
  }
}

variable "ingester_bundle_object_arn" {
  description = "ARN of the S3 object holding the ingester bundle (arn:aws:s3:::bucket/key) that user-data downloads."
  type        = string
}

variable "firehose_vpc_delivery" {
  description = "Grant the Firehose role the EC2 network-interface permissions it needs to deliver into a VPC domain."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
