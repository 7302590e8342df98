variable "name_prefix" {
  description = "Prefix of every role name (roles are <prefix>-firehose and <prefix>-ingester)."
  type        = string

  validation {
    # IAM role names allow 64 characters; the longest suffix this module adds is 24.
    condition     = length(var.name_prefix) <= 40 && can(regex("^[A-Za-z0-9+=,.@_-]+$", var.name_prefix))
    error_message = "name_prefix must be 1-40 characters valid in IAM role names (letters, digits, + = , . @ _ -); the longest role suffix is 24 characters of the 64 allowed."
  }
}

variable "firehose" {
  description = "The delivery stream, by name (its ARNs are built here, so this module depends on none of the resources): stream_name (the ingester may put records into it only), log_group_name (its error logs' CloudWatch log group), transform_function_name (the Lambda function its role may invoke) and, optional with its default: vpc_delivery (grant its role the EC2 network-interface permissions it needs to deliver into a VPC domain; false)."
  type = object({
    stream_name             = string
    log_group_name          = string
    transform_function_name = string
    vpc_delivery            = optional(bool, false)
  })
}

variable "opensearch" {
  description = "The domain Firehose delivers to and the ingester deletes from: domain_arn and, optional with its default: index_name_prefix (the index name Firehose writes, rotated as <prefix>-YYYY-MM-DD; scopes the mapping and stats reads Firehose makes and the ingester's deletes; tweets)."
  type = object({
    domain_arn        = string
    index_name_prefix = optional(string, "tweets")
  })
}

variable "ingester" {
  description = "What the ingester box reads and writes besides the stream: ssm_parameter_names (the SSM parameters it reads, the X bearer token SecureString, each a full path starting with '/'), bundle_object_arn (the S3 object holding the ingester bundle, arn:aws:s3:::bucket/key, that user-data downloads) and metrics_namespace (the CloudWatch namespace it may publish metrics to)."
  type = object({
    ssm_parameter_names = list(string)
    bundle_object_arn   = string
    metrics_namespace   = string
  })

  validation {
    condition     = alltrue([for n in var.ingester.ssm_parameter_names : startswith(n, "/")])
    error_message = "Each of ingester.ssm_parameter_names must be a full path starting with '/'."
  }
}

variable "backup_bucket_arn" {
  description = "ARN of the bucket Firehose writes failed records to (and the ingester its deletion tombstones, under tombstones/)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
