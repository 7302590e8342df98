variable "function_name" {
  description = "Name of the transform Lambda function (1-64 characters: letters, digits, hyphens, underscores)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "Lambda function names are 1-64 characters of letters, digits, hyphens and underscores."
  }
}

variable "zip_path" {
  description = "Path of the deployment package built by `make build` (dist/transform.zip)."
  type        = string
}

variable "handler" {
  description = "Handler of the transform function."
  type        = string
  default     = "transform.handler.lambda_handler"
}

variable "runtime" {
  description = "Python runtime of the function."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13 (the package targets Python 3.12+)."
  }
}

variable "architecture" {
  description = "Instruction set of the function. arm64 (Graviton) is cheaper per GB-second; the package is pure Python."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (Lambda allows 128-10240). CPU scales with memory."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240 (Lambda limit)."
  }
}

variable "timeout" {
  description = "Timeout in seconds. Firehose invokes processors synchronously for at most 5 minutes, so 1-300."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 300 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 300 (Firehose's 5-minute processor limit)."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency for the function; -1 leaves it unreserved (uses the account pool)."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "sentiment_backend" {
  description = "Sentiment backend of the transform: embedded (trained model in the zip, English, free), vader (embedded lexicon, English, free) or comprehend (Amazon Comprehend, billed per 100 characters)."
  type        = string
  default     = "embedded"

  # The Terraform source of truth of the backend names (the root passes its value here unvalidated). They are the
  # transform's BACKENDS (lambda_src/transform/settings.py); tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains(["embedded", "vader", "comprehend"], var.sentiment_backend)
    error_message = "sentiment_backend must be embedded, vader or comprehend."
  }
}

variable "sentiment_fallback" {
  description = "What the function does with posts the embedded or vader backend cannot score, i.e. languages without an embedded model (its SENTIMENT_FALLBACK setting): none (leave them unscored) or comprehend (Amazon Comprehend scores those in a language it supports, billed per 100 characters; grants comprehend:BatchDetectSentiment)."
  type        = string
  default     = "none"

  # The one Terraform copy of the transform's FALLBACKS (lambda_src/transform/settings.py; the root passes its value here
  # unvalidated); tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains(["none", "comprehend"], var.sentiment_fallback)
    error_message = "sentiment_fallback must be none or comprehend."
  }
}

variable "comprehend_concurrency" {
  description = "BatchDetectSentiment calls the function keeps in flight at once (each carries up to 25 documents)."
  type        = number
  default     = 4

  validation {
    condition     = var.comprehend_concurrency >= 1 && var.comprehend_concurrency <= 32 && floor(var.comprehend_concurrency) == var.comprehend_concurrency
    error_message = "comprehend_concurrency must be a whole number between 1 and 32."
  }
}

variable "comprehend_enrichments" {
  description = "Comprehend enrichments the function runs (its ENRICHMENTS setting): entities and/or key_phrases; empty for none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.comprehend_enrichments : contains(["entities", "key_phrases"], e)]) && length(distinct(var.comprehend_enrichments)) == length(var.comprehend_enrichments)
    error_message = "comprehend_enrichments may hold entities and key_phrases, each at most once (the transform's ENRICHMENTS setting accepts nothing else)."
  }
}

variable "emit_metrics" {
  description = "Emit per-batch CloudWatch metrics (records ok/failed, sentiment calls)."
  type        = bool
  default     = true
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the function's metrics."
  type        = string
  default     = "TweetSentiment/Transform"

  validation {
    condition     = can(regex("^[A-Za-z0-9./_#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . / _ # : - and must not start with AWS/."
  }
}

variable "log_level" {
  description = "Log level of the function (Python logging level name)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 30

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (CloudWatch Logs values)."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
