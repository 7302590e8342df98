variable "bucket_name" {
  description = "Name of the bucket. Globally unique, 3-63 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "S3 bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket even when it still holds objects or object versions."
  type        = bool
  default     = false
}

variable "failed_records_expiration_days" {
  description = "Days after which objects under processing-failed/ and AmazonOpenSearchService-failed/ (Firehose's failed-record folders) expire. 0 keeps them forever."
  type        = number
  default     = 90

  validation {
    condition     = var.failed_records_expiration_days >= 0 && floor(var.failed_records_expiration_days) == var.failed_records_expiration_days
    error_message = "failed_records_expiration_days must be a whole number >= 0 (0 = never expire)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which non-current object versions (overwritten bundles, deleted records) are removed."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted (their parts cost storage)."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number >= 1."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
