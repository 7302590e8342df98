variable "bucket" {
  description = "The bucket: name (globally unique, 3-63 characters) and, optional with its default: force_destroy (let `terraform destroy` delete the bucket even when it still holds objects or object versions; false)."
  type = object({
    name          = string
    force_destroy = optional(bool, false)
  })

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket.name))
    error_message = "bucket.name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit (S3 bucket names)."
  }
}

variable "expiration" {
  description = "The lifecycle rules' days, each optional with its default: failed_records_days (objects under processing-failed/ and AmazonOpenSearchService-failed/, Firehose's failed-record folders, expire after it; 0 keeps them forever; 90), noncurrent_version_days (non-current object versions, overwritten bundles and deleted records, are removed after it; 30) and incomplete_multipart_upload_days (incomplete multipart uploads, whose parts cost storage, are aborted after it; 7)."
  type = object({
    failed_records_days              = optional(number, 90)
    noncurrent_version_days          = optional(number, 30)
    incomplete_multipart_upload_days = optional(number, 7)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.expiration.failed_records_days >= 0 && floor(var.expiration.failed_records_days) == var.expiration.failed_records_days
    error_message = "expiration.failed_records_days must be a whole number >= 0 (0 = never expire)."
  }

  validation {
    condition     = alltrue([for days in [var.expiration.noncurrent_version_days, var.expiration.incomplete_multipart_upload_days] : days >= 1 && floor(days) == days])
    error_message = "expiration.noncurrent_version_days and expiration.incomplete_multipart_upload_days must be whole numbers >= 1."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
