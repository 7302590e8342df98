variable "name_prefix" {
  description = "Prefix of the alarm names (<name_prefix>-<alarm>), the topic, its key alias, the dashboard and the alert role."
  type        = string

  validation {
    # IAM role names allow 64 characters (<name_prefix>-opensearch-alerts adds 18); alarm and dashboard names 255.
    condition     = length(var.name_prefix) <= 46 && can(regex("^[A-Za-z0-9_-]+$", var.name_prefix))
    error_message = "name_prefix must be 1-46 characters of letters, digits, hyphens and underscores (an IAM role name is at most 64 characters; CloudWatch dashboard names accept these characters)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription email AWS sends). Empty = no subscription; subscribe a pager or chat integration to the topic output instead."
  type        = list(string)
  default     = []

  validation {
    condition     = length([for e in var.alarm_emails : e if !can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))]) == 0
    error_message = "alarm_emails must be email addresses (name@domain.tld)."
  }
}

variable "ingester" {
  description = "The ingester: the Firehose stream it writes to (DeliveryStreamName of AWS/Firehose, DeliveryStream of its own metrics), its metrics namespace (METRICS_NAMESPACE) and its instance ID (InstanceId of the EC2 status checks)."
  type = object({
    delivery_stream_name = string
    metrics_namespace    = string
    instance_id          = string
  })
}

variable "transform" {
  description = "The transform Lambda: function name, the alias Firehose invokes (AWS/Lambda reports it as Resource = <function>:<alias>), its EMF metrics namespace and its sentiment backend (embedded, vader or comprehend, the Backend dimension; the Comprehend throttling alarm exists only for comprehend)."
  type = object({
    function_name     = string
    alias_name        = string
    metrics_namespace = string
    sentiment_backend = string
  })

  # A copy of modules/lambda's backend list: each module validates its own inputs and stands alone, and HCL cannot share
  # a validation between modules. tests/unit/terraform/test_shared_rules.py keeps the copies equal.
  validation {
    condition     = contains(["embedded", "vader", "comprehend"], var.transform.sentiment_backend)
    error_message = "transform.sentiment_backend must be embedded, vader or comprehend (the transform's backends)."
  }
}

variable "opensearch" {
  description = "The OpenSearch domain: its name (DomainName of AWS/ES), EBS volume size per data node in GiB (the free-storage threshold is a share of it) and the trust policy of roles OpenSearch Service assumes for it (the opensearch module's service_assume_role_policy_json; the alert role uses it)."
  type = object({
    domain_name                = string
    volume_size                = number
    service_assume_role_policy = string
  })

  validation {
    condition     = var.opensearch.volume_size >= 10
    error_message = "opensearch.volume_size must be at least 10 GiB (the smallest EBS volume OpenSearch Service takes)."
  }
}

variable "thresholds" {
  description = "Alarm thresholds to change, by name; the others keep their defaults (local.default_thresholds in alarms.tf; docs/operate.md lists each alarm with its). Times are minutes, shares percentages."
  type        = map(number)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.thresholds), keys(local.default_thresholds))) == 0
    error_message = "Unknown alarm threshold name(s): ${join(", ", setsubtract(keys(var.thresholds), keys(local.default_thresholds)))}. The names are ${join(", ", sort(keys(local.default_thresholds)))}."
  }

  validation {
    # An alarm evaluates at most one day of data (period x evaluation periods <= 86,400 s); the minute settings
    # count 1-minute periods (stream_disconnected_minutes) or 5-minute ones (the others).
    condition = alltrue([
      for name, value in merge(local.default_thresholds, var.thresholds) : (
        name == "stream_disconnected_minutes" ? value >= 1 && value <= 1440 && floor(value) == value :
        endswith(name, "_minutes") ? value >= 5 && value <= 1440 && value % 5 == 0 :
        endswith(name, "_percent") ? value > 0 && value < 100 :
        name == "delivery_success_ratio" ? value > 0 && value <= 1 :
        value >= 60
      )
    ])
    error_message = "Thresholds: stream_disconnected_minutes a whole number 1-1440; no_posts_minutes and cluster_yellow_minutes multiples of 5 from 5 to 1440 (CloudWatch evaluates at most one day of data per alarm); the *_percent ones strictly between 0 and 100; delivery_success_ratio in (0, 1] (Firehose reports the share of records indexed); data_freshness_seconds at least 60."
  }
}

variable "tags" {
  description = "Tags merged into every resource of the module."
  type        = map(string)
  default     = {}
}
