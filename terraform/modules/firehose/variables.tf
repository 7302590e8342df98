variable "name" {
  description = "Name of the delivery stream (1-64 characters: letters, digits, '_', '.', '-')."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,64}$", var.name))
    error_message = "Firehose stream names are 1-64 characters of letters, digits, '_', '.' and '-'."
  }
}

variable "opensearch" {
  description = "The destination: domain_arn (the OpenSearch Service domain) and, each optional with its default: index_name (1-80 characters; Firehose appends the rotation suffix, tweets-2026-11-26 for OneDay; tweets), index_rotation_period (how often Firehose starts a new index: NoRotation, OneHour, OneDay, OneWeek or OneMonth; OneDay), buffering_interval (seconds buffered before a bulk request, 0-900, 0 = deliver within seconds; lower means fresher dashboards and more, smaller bulk requests; 0), buffering_size (MiB buffered before a bulk request, 1-100; 5), retry_duration (seconds Firehose retries a failed bulk request before backing the documents up to S3, 0-7200; 300) and vpc (deliver into a VPC domain through these subnet_ids and security_group_ids, the role needing the iam module's firehose.vpc_delivery; null = the public domain endpoint)."
  type = object({
    domain_arn            = string
    index_name            = optional(string, "tweets")
    index_rotation_period = optional(string, "OneDay")
    buffering_interval    = optional(number, 0)
    buffering_size        = optional(number, 5)
    retry_duration        = optional(number, 300)
    vpc = optional(object({
      subnet_ids         = list(string)
      security_group_ids = list(string)
    }))
  })

  validation {
    condition     = var.opensearch.buffering_interval >= 0 && var.opensearch.buffering_interval <= 900 && floor(var.opensearch.buffering_interval) == var.opensearch.buffering_interval
    error_message = "opensearch.buffering_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,79}$", var.opensearch.index_name))
    error_message = "opensearch.index_name must be 1-80 characters of lowercase letters, digits, '_' and '-' (OpenSearch index name rules, Firehose limit 80)."
  }

  validation {
    condition     = var.opensearch.buffering_size >= 1 && var.opensearch.buffering_size <= 100 && floor(var.opensearch.buffering_size) == var.opensearch.buffering_size
    error_message = "opensearch.buffering_size must be a whole number of MiB between 1 and 100 (Firehose limit for OpenSearch destinations)."
  }

  validation {
    condition     = contains(["NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth"], var.opensearch.index_rotation_period)
    error_message = "opensearch.index_rotation_period must be one of NoRotation, OneHour, OneDay, OneWeek, OneMonth."
  }

  validation {
    condition     = var.opensearch.retry_duration >= 0 && var.opensearch.retry_duration <= 7200 && floor(var.opensearch.retry_duration) == var.opensearch.retry_duration
    error_message = "opensearch.retry_duration must be a whole number of seconds between 0 and 7200 (Firehose limit)."
  }
}

variable "processor" {
  description = "The transform Firehose hands records to: lambda_arn (its qualified ARN, …:function:NAME:$LATEST, a version or an alias) and, each optional with its default: buffer_size (MB of records per invocation, 0.2-3; the Lambda's 6 MB payload limit applies to the response; 1) and buffer_interval (seconds Firehose buffers records before invoking it, 0-900, 0 = invoke as records arrive; 0)."
  type = object({
    lambda_arn      = string
    buffer_size     = optional(number, 1)
    buffer_interval = optional(number, 0)
  })

  validation {
    condition     = can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_$-]+$", var.processor.lambda_arn))
    error_message = "processor.lambda_arn must be a qualified Lambda ARN ending in :$LATEST, a version number or an alias."
  }

  validation {
    condition     = var.processor.buffer_interval >= 0 && var.processor.buffer_interval <= 900 && floor(var.processor.buffer_interval) == var.processor.buffer_interval
    error_message = "processor.buffer_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }

  validation {
    condition     = var.processor.buffer_size >= 0.2 && var.processor.buffer_size <= 3
    error_message = "processor.buffer_size must be between 0.2 and 3 MB (Firehose limit for Lambda processors)."
  }
}

variable "backup" {
  description = "Where failed documents and failed transforms go: bucket_arn (the S3 bucket) and, each optional with its default: buffering_interval (seconds Firehose buffers failed records before writing them, 0-900; 300) and buffering_size (MiB, 1-128; 5)."
  type = object({
    bucket_arn         = string
    buffering_interval = optional(number, 300)
    buffering_size     = optional(number, 5)
  })

  validation {
    condition     = var.backup.buffering_interval >= 0 && var.backup.buffering_interval <= 900 && floor(var.backup.buffering_interval) == var.backup.buffering_interval
    error_message = "backup.buffering_interval must be a whole number of seconds between 0 and 900 (Firehose limit)."
  }

  validation {
    condition     = var.backup.buffering_size >= 1 && var.backup.buffering_size <= 128 && floor(var.backup.buffering_size) == var.backup.buffering_size
    error_message = "backup.buffering_size must be a whole number of MiB between 1 and 128 (Firehose limit)."
  }
}

variable "logging" {
  description = "The stream's error logs (/aws/kinesisfirehose/<name>), optional with its default: retention_days (of the log group, one of the values CloudWatch Logs accepts; 30)."
  type = object({
    retention_days = optional(number, 30)
  })
  default  = {}
  nullable = false

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.logging.retention_days)
    error_message = "logging.retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "role_arn" {
  description = "ARN of the delivery role (from the iam module)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
