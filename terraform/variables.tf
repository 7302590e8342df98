# ---------------------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS Region to deploy into (must offer OpenSearch Service, Firehose, Comprehend if used, and the ingester's instance type)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region code such as us-east-1 or eu-west-1."
  }
}

variable "name_prefix" {
  description = "Name of the stack: the OpenSearch domain, stream and role names derive from it (3-28 characters, lowercase letter first, lowercase letters, digits, hyphens)."
  type        = string
  default     = "tweet-sentiment"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.name_prefix))
    error_message = "name_prefix must be 3-28 characters: a lowercase letter, then lowercase letters, digits or hyphens (it names the OpenSearch domain, whose limit is 28)."
  }
}

variable "tags" {
  description = "Tags added to every resource (through the provider's default_tags), e.g. { Owner = \"platform\", CostCenter = \"1234\" }."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  # Passed through unvalidated: the firehose, lambda and opensearch modules validate it (each stands alone; one copy
  # each, kept equal to CloudWatch Logs' list by tests/unit/terraform/test_shared_rules.py).
  description = "Retention of every CloudWatch log group of the stack (Lambda, Firehose errors, OpenSearch logs), in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 30
}

# ---------------------------------------------------------------------------------------------------
# S3 backup bucket
# ---------------------------------------------------------------------------------------------------

variable "backup_bucket_name" {
  description = "Name of the bucket for failed records. Null = <name_prefix>-backup-<account id>-<region>."
  type        = string
  default     = null
}

variable "artifacts_bucket_name" {
  description = "Name of the bucket for the ingester bundle. Null = <name_prefix>-bundle-<account id>-<region>."
  type        = string
  default     = null
}

variable "failed_records_expiration_days" {
  description = "Days after which failed records in the backup bucket expire; they hold post text, so at most retention_days - 1 (their non-current version goes a day later): a deleted post's copy is gone within the retention window. Null: retention_days - 1 (at least 1). Redrive them before then."
  type        = number
  default     = null

  validation {
    condition     = var.failed_records_expiration_days == null || try(var.failed_records_expiration_days >= 1 && floor(var.failed_records_expiration_days) == var.failed_records_expiration_days && var.failed_records_expiration_days <= max(var.retention_days - 1, 1), false)
    error_message = "failed_records_expiration_days must be a whole number from 1 to retention_days - 1: failed records hold post text, and a deleted post's copies must be gone within the retention window."
  }
}

variable "force_destroy_bucket" {
  description = "Let `terraform destroy` delete the backup bucket with the failed records still in it."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------------
# OpenSearch
# ---------------------------------------------------------------------------------------------------

variable "index_name" {
  description = "Index name prefix Firehose writes to (daily indices <index_name>-YYYY-MM-DD with the default rotation)."
  type        = string
  default     = "tweets"
}

variable "retention_days" {
  # Passed through unvalidated: modules/ingester (retention_days) validates it, the one copy of the rule.
  description = "Days the OpenSearch indices are kept: the OpenSearch setup step (make opensearch-setup) applies it as an ISM policy that deletes older indices. Also bounds the failed records in S3 (failed_records_expiration_days) and how long the ingester remembers accepted ids for deletions (RETENTION_DAYS)."
  type        = number
  default     = 30
}

variable "opensearch_engine_version" {
  description = "OpenSearch engine version of the domain."
  type        = string
  default     = "OpenSearch_2.19"
}

variable "opensearch_instance_type" {
  description = "Data node instance type (t3.small.search for a small team; m7g/r7g for production)."
  type        = string
  default     = "t3.small.search"
}

variable "opensearch_instance_count" {
  description = "Number of data nodes."
  type        = number
  default     = 1
}

variable "opensearch_volume_size" {
  description = "gp3 EBS volume per data node, in GiB."
  type        = number
  default     = 10
}

variable "opensearch_zone_awareness_enabled" {
  description = "Spread data nodes across availability zones (set opensearch_instance_count to a multiple of opensearch_availability_zone_count)."
  type        = bool
  default     = false
}

variable "opensearch_availability_zone_count" {
  description = "Availability zones used with zone awareness (2 or 3)."
  type        = number
  default     = 2
}

variable "opensearch_dedicated_master_enabled" {
  description = "Run three dedicated master nodes (recommended for production clusters)."
  type        = bool
  default     = false
}

variable "opensearch_auto_tune_enabled" {
  # Passed through unvalidated: modules/opensearch (cluster.auto_tune_enabled against cluster.instance_type) validates it, the one copy of the rule.
  description = "Enable Auto-Tune (not supported on t2/t3 instance types)."
  type        = bool
  default     = false
}

variable "opensearch_admin_principal_arns" {
  description = "IAM roles or users allowed to assume the OpenSearch admin role (the domain's master user). Empty = the role or user that applies Terraform (refused when that is the account's root user). Set it when more than one identity administers the domain or applies the stack (a CI role, a team role)."
  type        = list(string)
  default     = []
}

variable "dashboards_mfa_configuration" {
  description = "MFA of Dashboards users (Cognito): ON (TOTP required, set up at first login), OPTIONAL or OFF."
  type        = string
  default     = "ON"
}

variable "dashboards_cognito_domain_prefix" {
  description = "Prefix of the Cognito login domain of Dashboards. Null = <name_prefix>-<account ID>."
  type        = string
  default     = null
}

variable "opensearch_log_resource_policy" {
  description = "create: the stack adds a CloudWatch Logs resource policy for its domain's log groups. existing: it adds none; the account already has one for es.amazonaws.com on /aws/OpenSearchService/domains/* (docs/deploy.md; CloudWatch Logs allows 10 per account and Region)."
  type        = string
  default     = "create"
}

variable "opensearch_log_types" {
  description = "OpenSearch logs published to CloudWatch Logs."
  type        = list(string)
  default     = ["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"]
}

variable "dashboards_allowed_cidrs" {
  description = "Source CIDRs allowed to reach the OpenSearch endpoint and Dashboards (Firehose is always allowed). Required unless opensearch_vpc is set; make deploy/plan fill in your public IP (/32) when you leave it unset."
  type        = list(string)
  default     = []

  # The module refuses the same case; this copy names the root's variables and the make targets.
  validation {
    condition     = var.opensearch_vpc != null || length(var.dashboards_allowed_cidrs) > 0
    error_message = "dashboards_allowed_cidrs is empty, which would open the OpenSearch endpoint and Dashboards to the internet: set it to your network, e.g. [\"203.0.113.10/32\"] (make deploy and make plan fill in your public IP when it is unset), or put the domain in a VPC with opensearch_vpc."
  }
}

variable "opensearch_vpc" {
  description = "Put the domain in a VPC (and deliver to it from Firehose through the same subnets and security groups). Null = public endpoint with fine-grained access control."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "opensearch_timeouts" {
  description = "Create/update/delete timeouts of the domain. Real AWS needs long ones (creation takes 15-30 minutes)."
  type = object({
    create = optional(string, "90m")
    update = optional(string, "90m")
    delete = optional(string, "90m")
  })
  default = {}
}

# ---------------------------------------------------------------------------------------------------
# Firehose
# ---------------------------------------------------------------------------------------------------

variable "index_rotation_period" {
  description = "Index rotation: NoRotation, OneHour, OneDay, OneWeek or OneMonth."
  type        = string
  default     = "OneDay"
}

variable "buffering_preset" {
  description = "How Firehose buffers: realtime (default: 0 s before the transform and before OpenSearch, a post is searchable seconds after it is read) or batch (Firehose's own defaults: 60 s / 1 MB before the transform, 300 s / 5 MiB before OpenSearch; fewer, larger Lambda invocations and bulk requests for high-volume streams). The four variables below override single values. Trade-off: docs/costs.md."
  type        = string
  default     = "realtime"

  validation {
    condition     = contains(["realtime", "batch"], var.buffering_preset)
    error_message = "buffering_preset must be realtime or batch."
  }
}

variable "firehose_buffering_interval" {
  description = "Seconds Firehose buffers before a bulk request to OpenSearch (0-900; 0 = as soon as possible). Null = from buffering_preset (realtime 0, batch 300)."
  type        = number
  default     = null
}

variable "firehose_buffering_size" {
  description = "MiB Firehose buffers before a bulk request to OpenSearch (1-100). Null = from buffering_preset (5 for both)."
  type        = number
  default     = null
}

variable "firehose_retry_duration" {
  description = "Seconds Firehose retries OpenSearch before backing documents up to S3 (0-7200). The default, an hour, covers a first deploy: the ingester starts sending while Terraform still applies, and OpenSearch refuses Firehose (HTTP 403) until make opensearch-setup maps its role, minutes later."
  type        = number
  default     = 3600
}

variable "processor_buffer_size" {
  description = "MB of records per transform invocation (0.2-3). Null = from buffering_preset (1 for both)."
  type        = number
  default     = null
}

variable "processor_buffer_interval" {
  description = "Seconds Firehose buffers records before invoking the transform (0-900). Null = from buffering_preset (realtime 0, batch 60)."
  type        = number
  default     = null
}

# ---------------------------------------------------------------------------------------------------
# Transform Lambda
# ---------------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the transform package. Null = dist/transform.zip at the repository root (built by `make build`)."
  type        = string
  default     = null
}

variable "sentiment_backend" {
  description = "Sentiment backend: embedded (trained model in the zip, English, free), vader (embedded lexicon, English, free) or comprehend (Amazon Comprehend, 12 languages, billed per 100 characters). Validated by the lambda module's sentiment.backend (one copy of the list)."
  type        = string
  default     = "embedded"
}

variable "sentiment_fallback" {
  description = "What the transform does with posts the embedded or vader backend cannot score (languages without an embedded model; SENTIMENT_FALLBACK): none (the default: leave them unscored) or comprehend (Amazon Comprehend scores those in a language it supports, billed per 100 characters; only then the transform role gets comprehend:BatchDetectSentiment). No effect with sentiment_backend = comprehend. Validated by the lambda module's sentiment.fallback."
  type        = string
  default     = "none"
}

variable "comprehend_concurrency" {
  description = "BatchDetectSentiment calls the transform keeps in flight (1-32)."
  type        = number
  default     = 4
}

variable "comprehend_enrichments" {
  description = "Optional Amazon Comprehend enrichments of every tweet, billed like Comprehend sentiment (docs/costs.md): entities (BatchDetectEntities) and/or key_phrases (BatchDetectKeyPhrases). Empty (the default) runs none and grants no extra IAM action. Validated by the lambda module's sentiment.comprehend_enrichments (one copy of the rule)."
  type        = list(string)
  default     = []
}

variable "lambda_memory_size" {
  description = "Memory of the transform in MB (128-10240)."
  type        = number
  default     = 256
}

variable "lambda_timeout" {
  description = "Timeout of the transform in seconds (1-300)."
  type        = number
  default     = 120
}

variable "lambda_architecture" {
  description = "Instruction set of the transform: arm64 (cheaper) or x86_64."
  type        = string
  default     = "arm64"
}

variable "lambda_runtime" {
  description = "Python runtime of the transform (python3.12 or python3.13)."
  type        = string
  default     = "python3.12"
}

variable "lambda_reserved_concurrent_executions" {
  # Passed through unvalidated: modules/lambda (function.reserved_concurrent_executions) validates it, the one copy of the rule.
  description = "Reserved concurrency of the transform; -1 leaves it unreserved (the account pool). Firehose bounds its own parallel invocations per stream."
  type        = number
  default     = -1
}

variable "transform_emit_metrics" {
  description = "Let the transform publish per-batch CloudWatch metrics."
  type        = bool
  default     = true
}

variable "transform_metrics_namespace" {
  description = "CloudWatch namespace of the transform's metrics."
  type        = string
  default     = "TweetSentiment/Transform"
}

variable "transform_log_level" {
  description = "Log level of the transform."
  type        = string
  default     = "INFO"
}

# ---------------------------------------------------------------------------------------------------
# Ingester
# ---------------------------------------------------------------------------------------------------

variable "ingester_bundle_path" {
  description = "Path of the ingester bundle. Null = dist/ingester-bundle.tar.gz at the repository root (built by `make build`)."
  type        = string
  default     = null
}

variable "ingester_source" {
  description = "What the ingester reads: x (the X filtered stream, billed per post), bluesky (Bluesky's public Jetstream, free, filtered locally by tracked_terms) or both (two services on the same box). Validated once, by modules/ingester (x, bluesky or both)."
  type        = string
  default     = "x"
}

variable "tracked_terms" {
  description = "Terms the X filtered-stream rules track and the Bluesky source matches locally."
  type        = list(string)
  default     = ["aws", "amazon web services"]
}

variable "max_posts_per_day" {
  description = "Daily cap of posts read from X (posts are billed per read); 0 = no cap."
  type        = number
  default     = 10000
}

variable "ingester_architecture" {
  # Passed through unvalidated: modules/ingester (architecture) validates it, the one copy of the rule.
  description = "CPU architecture of the ingester box: arm64 (Graviton, cheaper) or x86_64. It picks the Amazon Linux 2023 AMI; ingester_instance_type (and ingester_ami_id, if set) must run it. The ingester bundle is pure Python and runs on both."
  type        = string
  default     = "arm64"
}

variable "ingester_instance_type" {
  description = "Instance type of the ingester; it must run ingester_architecture (arm64: t4g.small; x86_64: t3.small). Checked at plan time."
  type        = string
  default     = "t4g.small"
}

variable "ingester_ami_id" {
  description = "AMI of the ingester (its architecture must be ingester_architecture). Null = the latest Amazon Linux 2023 AMI for ingester_architecture."
  type        = string
  default     = null
}

variable "ingester_subnet_id" {
  description = "Subnet of the ingester. Null = a default-VPC subnet in an availability zone that offers ingester_instance_type."
  type        = string
  default     = null
}

variable "ingester_associate_public_ip" {
  description = "Give the ingester a public IPv4 address (needed in a public subnet without NAT)."
  type        = bool
  default     = true
}

variable "ssh_allowed_cidrs" {
  description = "CIDRs allowed to SSH to the ingester. Empty = no SSH ingress (use Session Manager: make ssh)."
  type        = list(string)
  default     = []
}

variable "ssh_key_name" {
  description = "Existing EC2 key pair for SSH to the ingester. Null = none."
  type        = string
  default     = null
}

variable "ingester_root_volume_size" {
  description = "Root volume of the ingester in GiB (gp3, encrypted; the OS and the code; also the disk spool when ingester_state_volume_size = 0)."
  type        = number
  default     = 16
}

variable "ingester_state_volume_size" {
  description = "Size in GiB of the ingester's separate state volume (encrypted gp3: write-ahead log and disk spool), kept when the instance is replaced. 0 = state on the root volume, lost with the instance."
  type        = number
  default     = 8
}

variable "ingester_detailed_monitoring" {
  description = "Enable EC2 detailed (1-minute) monitoring of the ingester box (billed per metric; the ingester's own pipeline metrics are published either way)."
  type        = bool
  default     = false
}

variable "x_bearer_token_key_deletion_days" {
  # Passed through unvalidated: modules/ingester (token_key_deletion_days) validates it, the one copy of the rule.
  description = "Days AWS KMS waits before deleting the X bearer token's key after destroy (7-30)."
  type        = number
  default     = 30
}

variable "ingester_cloudwatch_metrics" {
  description = "Let the ingester publish its metrics to CloudWatch."
  type        = bool
  default     = true
}

variable "ingester_metrics_namespace" {
  description = "CloudWatch namespace of the ingester's metrics (the instance role may publish to it only)."
  type        = string
  default     = "TweetSentiment/Ingester"
}

variable "ingester_log_level" {
  description = "Log level of the ingester: DEBUG, INFO, WARNING, ERROR or CRITICAL."
  type        = string
  default     = "INFO"
}

# ---------------------------------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------------------------------

variable "monitoring_enabled" {
  description = "Create the alarms, their SNS topic and the pipeline dashboard (terraform/modules/monitoring); it also turns on the ingester's and the transform's metrics, which the alarms watch."
  type        = bool
  default     = true
}

variable "alarm_thresholds" {
  description = "Alarm thresholds to change, by name (e.g. { no_posts_minutes = 120 }); docs/operate.md (Alarms) lists the names and defaults, and an unknown name is refused."
  type        = map(number)
  default     = {}
}

variable "sentiment_alert" {
  description = "The negative-sentiment alert make opensearch-setup creates in OpenSearch (needs monitoring_enabled: it notifies the alarm topic): a tracked rule alerts when, over the last window_minutes, more than negative_percent % of at least min_posts scored posts are NEGATIVE. The monitor runs every 5 minutes."
  type = object({
    window_minutes   = optional(number, 15)
    negative_percent = optional(number, 40)
    min_posts        = optional(number, 20)
  })
  default = {}

  validation {
    # The monitor runs every 5 minutes (a shorter window would leave posts unchecked); a day bounds the search.
    condition     = var.sentiment_alert.window_minutes >= 5 && var.sentiment_alert.window_minutes <= 1440 && floor(var.sentiment_alert.window_minutes) == var.sentiment_alert.window_minutes
    error_message = "sentiment_alert.window_minutes must be a whole number of minutes from 5 (the monitor's schedule) to 1440."
  }

  validation {
    condition     = var.sentiment_alert.negative_percent > 0 && var.sentiment_alert.negative_percent < 100
    error_message = "sentiment_alert.negative_percent must be a share between 0 and 100 (exclusive)."
  }

  validation {
    condition     = var.sentiment_alert.min_posts >= 1 && floor(var.sentiment_alert.min_posts) == var.sentiment_alert.min_posts
    error_message = "sentiment_alert.min_posts must be a whole number of posts, at least 1."
  }
}

variable "alarm_emails" {
  description = "Email addresses the alarm topic notifies (each confirms a subscription email). Empty = none; subscribe other endpoints to the monitoring_sns_topic_arn output."
  type        = list(string)
  default     = []
}

variable "tombstone_days" {
  description = "Days the ingester keeps and enforces a deletion (TOMBSTONE_DAYS): at least retention_days, the longest any copy of a deleted post can come back (a redrive of a failed-record file). Null: retention_days + 5."
  type        = number
  default     = null

  validation {
    condition     = var.tombstone_days == null || try(var.tombstone_days >= var.retention_days && var.tombstone_days <= 3650 && floor(var.tombstone_days) == var.tombstone_days, false)
    error_message = "tombstone_days must be a whole number from retention_days to 3650: a deletion must be enforced as long as a copy of the post can come back."
  }
}
