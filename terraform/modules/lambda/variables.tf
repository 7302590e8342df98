variable "function" {
  description = "The function: name (1-64 letters, digits, hyphens, underscores; also names its role and log group), zip_path (the package `make build` writes, dist/transform.zip) and, each optional with its default: handler (transform.handler.lambda_handler), runtime (python3.12 or python3.13; python3.12), architecture (arm64 or x86_64; arm64, cheaper per GB-second, the package is pure Python), memory_size (MB, 128-10240, CPU scales with it; 256), timeout (seconds, 1-300: Firehose invokes processors for at most 5 minutes; 120) and reserved_concurrent_executions (-1 leaves it unreserved, the account pool; -1)."
  type = object({
    name                           = string
    zip_path                       = string
    handler                        = optional(string, "transform.handler.lambda_handler")
    runtime                        = optional(string, "python3.12")
    architecture                   = optional(string, "arm64")
    memory_size                    = optional(number, 256)
    timeout                        = optional(number, 120)
    reserved_concurrent_executions = optional(number, -1)
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function.name))
    error_message = "function.name must be 1-64 characters of letters, digits, hyphens and underscores (Lambda function names)."
  }

  validation {
    condition     = contains(["python3.12", "python3.13"], var.function.runtime)
    error_message = "function.runtime must be python3.12 or python3.13 (the package targets Python 3.12+)."
  }

  validation {
    condition     = contains(["arm64", "x86_64"], var.function.architecture)
    error_message = "function.architecture must be arm64 or x86_64."
  }

  validation {
    condition     = var.function.memory_size >= 128 && var.function.memory_size <= 10240 && floor(var.function.memory_size) == var.function.memory_size
    error_message = "function.memory_size must be a whole number of MB between 128 and 10240 (Lambda limit)."
  }

  validation {
    condition     = var.function.timeout >= 1 && var.function.timeout <= 300 && floor(var.function.timeout) == var.function.timeout
    error_message = "function.timeout must be a whole number of seconds between 1 and 300 (Firehose's 5-minute processor limit)."
  }

  validation {
    condition     = var.function.reserved_concurrent_executions >= -1 && floor(var.function.reserved_concurrent_executions) == var.function.reserved_concurrent_executions
    error_message = "function.reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "sentiment" {
  description = "How the function scores posts, each optional with its default: backend (SENTIMENT_BACKEND: embedded, a trained model in the zip, English, free; vader, an embedded lexicon, English, free; or comprehend, Amazon Comprehend, billed per 100 characters; embedded), fallback (SENTIMENT_FALLBACK, for posts the embedded or vader backend cannot score, i.e. languages without an embedded model: none leaves them unscored, comprehend sends those in a language Comprehend supports to it and grants comprehend:BatchDetectSentiment; none), comprehend_concurrency (BatchDetectSentiment calls kept in flight at once, each up to 25 documents, 1-32; 4) and comprehend_enrichments (ENRICHMENTS: entities and/or key_phrases; empty for none)."
  type = object({
    backend                = optional(string, "embedded")
    fallback               = optional(string, "none")
    comprehend_concurrency = optional(number, 4)
    comprehend_enrichments = optional(list(string), [])
  })
  default  = {}
  nullable = false

  # The Terraform source of truth of the backend and fallback names (the root passes its values here unvalidated). They
  # are the transform's BACKENDS and FALLBACKS (lambda_src/transform/settings.py); tests/unit/terraform/test_shared_rules.py
  # keeps them equal.
  validation {
    condition     = contains(["embedded", "vader", "comprehend"], var.sentiment.backend)
    error_message = "sentiment.backend must be embedded, vader or comprehend."
  }

  validation {
    condition     = var.sentiment.comprehend_concurrency >= 1 && var.sentiment.comprehend_concurrency <= 32 && floor(var.sentiment.comprehend_concurrency) == var.sentiment.comprehend_concurrency
    error_message = "sentiment.comprehend_concurrency must be a whole number between 1 and 32."
  }

  validation {
    condition     = contains(["none", "comprehend"], var.sentiment.fallback)
    error_message = "sentiment.fallback must be none or comprehend."
  }

  validation {
    condition     = alltrue([for e in var.sentiment.comprehend_enrichments : contains(["entities", "key_phrases"], e)]) && length(distinct(var.sentiment.comprehend_enrichments)) == length(var.sentiment.comprehend_enrichments)
    error_message = "sentiment.comprehend_enrichments may hold entities and key_phrases, each at most once (the transform's ENRICHMENTS setting accepts nothing else)."
  }
}

variable "metrics" {
  description = "The function's per-batch CloudWatch metrics (records ok/failed, sentiment calls), each optional with its default: enabled (EMIT_METRICS; true) and namespace (METRICS_NAMESPACE, 1-255 characters, not AWS/...; TweetSentiment/Transform)."
  type = object({
    enabled   = optional(bool, true)
    namespace = optional(string, "TweetSentiment/Transform")
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9./_#:-]{1,255}$", var.metrics.namespace)) && !startswith(var.metrics.namespace, "AWS/")
    error_message = "metrics.namespace must be 1-255 characters of letters, digits and . / _ # : - and must not start with AWS/."
  }
}

variable "logging" {
  description = "The function's logs, each optional with its default: level (LOG_LEVEL, a Python logging level name; INFO) and retention_days (of its log group, one of the values CloudWatch Logs accepts; 30)."
  type = object({
    level          = optional(string, "INFO")
    retention_days = optional(number, 30)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.logging.level)
    error_message = "logging.level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.logging.retention_days)
    error_message = "logging.retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (CloudWatch Logs values)."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
