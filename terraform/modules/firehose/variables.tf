variable "name" {
  description = "Name of the delivery stream (1-64 characters: letters, digits, '_', '.', '-')."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,64}$", var.name))
    error_message = "Firehose stream names are 1-64 characters of letters, digits, '_', '.' and '-'."
  }
}

variable "role_arn" {
  description = "ARN of the delivery role (from the iam module)."
  type        = string
}

variable "opensearch_domain_arn" {
  description = "ARN of the OpenSearch Service domain to deliver to."
  type        = string
}

variable "index_name" {
  description = "Index name; Firehose appends the rotation suffix (tweets-2026-11-26 for OneDay)."
  type        = string
  default     = "tweets"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,79}$", var.index_name))
    error_message = "index_name must be 1-80 characters of lowercase letters, digits, '_' and '-' (OpenSearch index name rules, Firehose limit 80)."
  }
}

variable "index_rotation_period" {
  description = "How often Firehose starts a new index: NoRotation, OneHour, OneDay, OneWeek or OneMonth."
  type        = string
  default     = "OneDay"

  validation {
    condition     = contains(["NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth"], var.index_rotation_period)
    error_message = "index_rotation_period must be one of NoRotation, OneHour, OneDay, OneWeek, OneMonth."
  }
}

variable "buffering_interval" {
  description = "Seconds Firehose buffers before delivering to OpenSearch (0-900; 0 = no buffering, deliver within seconds). Lower means fresher dashboards and more, smaller bulk requests."
  type        = number
  default     = 0

  validation {
    condition     = var.buffering_interval >= 0 && var.buffering_interval <= 900 && floor(var.buffering_interval) == var.buffering_interval
    error_message = "buffering_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }
}

variable "buffering_size" {
  description = "MiB Firehose buffers before delivering to OpenSearch (1-100)."
  type        = number
  default     = 5

  validation {
    condition     = var.buffering_size >= 1 && var.buffering_size <= 100 && floor(var.buffering_size) == var.buffering_size
    error_message = "buffering_size must be a whole number of MiB between 1 and 100 (Firehose limit for OpenSearch destinations)."
  }
}

variable "retry_duration" {
  description = "Seconds Firehose retries a failed bulk request before sending the documents to the S3 backup (0-7200)."
  type        = number
  default     = 300

  validation {
    condition     = var.retry_duration >= 0 && var.retry_duration <= 7200 && floor(var.retry_duration) == var.retry_duration
    error_message = "retry_duration must be a whole number of seconds between 0 and 7200 (Firehose limit)."
  }
}

variable "processor_lambda_arn" {
  description = "Qualified ARN of the transform function (…:function:NAME:$LATEST, a version or an alias)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_$-]+$", var.processor_lambda_arn))
    error_message = "processor_lambda_arn must be a qualified Lambda ARN ending in :$LATEST, a version number or an alias."
  }
}

variable "processor_buffer_size" {
  description = "MB of records Firehose hands the transform per invocation (0.2-3; the Lambda's 6 MB payload limit applies to the response)."
  type        = number
  default     = 1

  validation {
    condition     = var.processor_buffer_size >= 0.2 && var.processor_buffer_size <= 3
    error_message = "processor_buffer_size must be between 0.2 and 3 MB (Firehose limit for Lambda processors)."
  }
}

variable "processor_buffer_interval" {
  description = "Seconds Firehose buffers records before invoking the transform (0-900; 0 = invoke as records arrive)."
  type        = number
  default     = 0

  validation {
    condition     = var.processor_buffer_interval >= 0 && var.processor_buffer_interval <= 900 && floor(var.processor_buffer_interval) == var.processor_buffer_interval
    error_message = "processor_buffer_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }
}

variable "backup_bucket_arn" {
  description = "ARN of the S3 bucket that receives failed documents and failed transforms."
  type        = string
}

variable "backup_buffering_interval" {
  description = "Seconds Firehose buffers failed records before writing them to S3 (0-900)."
  type        = number
  default     = 300

  validation {
    condition     = var.backup_buffering_interval >= 0 && var.backup_buffering_interval <= 900 && floor(var.backup_buffering_interval) == var.backup_buffering_interval
    error_message = "backup_buffering_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }
}

variable "backup_buffering_size" {
  description = "MiB Firehose buffers failed records before writing them to S3 (1-128)."
  type        = number
  default     = 5

  validation {
    condition     = var.backup_buffering_size >= 1 && var.backup_buffering_size <= 128 && floor(var.backup_buffering_size) == var.backup_buffering_size
    error_message = "backup_buffering_size must be a whole number of MiB between 1 and 128 (Firehose limit)."
  }
}

variable "log_retention_days" {
  description = "Retention of the stream's error log group, in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 30

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "vpc_config" {
  description = "Deliver into a VPC domain through these subnets and security groups (the role needs the iam module's firehose_vpc_delivery). Null = public domain endpoint."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
