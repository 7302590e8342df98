variable "name" {
  description = "Name of the ingester (instance Name tag, security group name prefix)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,48}$", var.name))
    error_message = "name must be 1-48 characters of letters, digits, '_', '.' and '-'."
  }
}

variable "subnet_id" {
  description = "Subnet of the instance. It needs outbound HTTPS to the X API and AWS APIs (a public subnet with a public IP, or a private one with NAT)."
  type        = string
}

variable "architecture" {
  description = "CPU architecture of the box: arm64 (Graviton, cheaper per vCPU) or x86_64. It picks the Amazon Linux 2023 AMI, and instance_type (and ami_id, if set) must run it; the ingester bundle is pure Python and runs on both."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64 (the two architectures Amazon Linux 2023 AMIs are published for)."
  }
}

variable "instance_type" {
  description = "Instance type; it must support `architecture` (arm64: Graviton types such as t4g.small; x86_64: e.g. t3.small). Checked against EC2's instance type data at plan time."
  type        = string
  default     = "t4g.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be an EC2 instance type such as t4g.small."
  }
}

variable "ami_id" {
  description = "AMI of the instance (its architecture must be `architecture`). Null = the latest Amazon Linux 2023 AMI for `architecture`, from AWS's public SSM parameter (resolved at creation; later AMI releases do not replace the instance)."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "associate_public_ip_address" {
  description = "Give the instance a public IPv4 address (needed in a public subnet without NAT; SSH uses it)."
  type        = bool
  default     = true
}

variable "ssh_allowed_cidrs" {
  description = "CIDRs allowed to SSH (port 22) to the instance. Empty = no SSH ingress at all (Session Manager still works)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each ssh_allowed_cidrs entry must be a valid CIDR block narrower than the whole internet (0.0.0.0/0 and ::/0 are refused; use Session Manager instead)."
  }
}

variable "key_name" {
  description = "Name of an existing EC2 key pair for SSH. Null = no key pair (use Session Manager, or EC2 Instance Connect)."
  type        = string
  default     = null
}

variable "root_volume_size" {
  description = "Root volume size in GiB (gp3, encrypted). Holds the OS, the bundle and the ingester's disk spool; Amazon Linux 2023 needs at least 8."
  type        = number
  default     = 16

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 16384 && floor(var.root_volume_size) == var.root_volume_size
    error_message = "root_volume_size must be a whole number of GiB between 8 (Amazon Linux 2023 minimum) and 16384."
  }
}

variable "detailed_monitoring" {
  description = "Enable EC2 detailed (1-minute) monitoring (billed per metric)."
  type        = bool
  default     = false
}

variable "instance_profile_name" {
  description = "Instance profile of the instance (from the iam module)."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Bucket the ingester bundle is uploaded to."
  type        = string
}

variable "bundle_key" {
  description = "Object key of the ingester bundle in the artifacts bucket."
  type        = string
  default     = "ingester/ingester-bundle.tar.gz"
}

variable "bundle_path" {
  description = "Local path of the ingester bundle built by `make build` (dist/ingester-bundle.tar.gz)."
  type        = string
}

variable "delivery_stream_name" {
  description = "Firehose delivery stream the ingester puts records into."
  type        = string
}

variable "ingester_source" {
  description = "What the ingester reads: x (the X filtered stream, billed per post), bluesky (Bluesky's public Jetstream, free, filtered locally by tracked_terms) or both (two services on the same box: tweet-ingester reads X, tweet-ingester-bluesky reads Bluesky with its own state directory). Every source connects out on 443 only."
  type        = string
  default     = "x"

  validation {
    condition     = can(regex("^(x|bluesky|both)$", var.ingester_source))
    error_message = "ingester_source must be x, bluesky or both."
  }
}

variable "tracked_terms" {
  description = "Terms the X filtered-stream rules track and the Bluesky source matches locally (TRACKED_TERMS, comma-joined in the env file)."
  type        = list(string)

  validation {
    condition     = length(var.tracked_terms) > 0 && alltrue([for t in var.tracked_terms : length(trimspace(t)) > 0 && can(regex("^[^,\"\\\\$`\\n\\r]+$", t))])
    error_message = "tracked_terms needs at least one non-blank term; terms must not contain commas, quotes, backslashes, '$', backticks or line breaks."
  }
}

variable "x_bearer_token_parameter_name" {
  description = "Name of the SSM SecureString parameter the ingester reads the X API bearer token from. Terraform does not create it: `make x-token` puts it, encrypted with this module's KMS key."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.x_bearer_token_parameter_name)) && length(var.x_bearer_token_parameter_name) <= 1011
    error_message = "x_bearer_token_parameter_name must be a full SSM parameter path starting with '/', using letters, digits, '_', '.', '-' and '/', at most 1011 characters (SSM limit)."
  }
}

variable "instance_role_arn" {
  description = "ARN of the ingester's instance role (from the iam module): the only principal the token key lets decrypt."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.instance_role_arn))
    error_message = "instance_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)."
  }
}

variable "token_key_deletion_days" {
  description = "Waiting period, in days, before the token's KMS key is deleted after `terraform destroy` (AWS KMS allows 7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.token_key_deletion_days >= 7 && var.token_key_deletion_days <= 30 && floor(var.token_key_deletion_days) == var.token_key_deletion_days
    error_message = "token_key_deletion_days must be a whole number of days from 7 to 30 (the AWS KMS PendingWindowInDays limit)."
  }
}

variable "max_posts_per_day" {
  description = "Daily cap of posts the ingester reads from X (posts are billed per read); 0 = no cap."
  type        = number
  default     = 10000

  validation {
    condition     = var.max_posts_per_day >= 0 && floor(var.max_posts_per_day) == var.max_posts_per_day
    error_message = "max_posts_per_day must be a whole number >= 0 (0 = no cap)."
  }
}

variable "cloudwatch_metrics" {
  description = "Publish the ingester's metrics (received, put, failed, spooled) to CloudWatch."
  type        = bool
  default     = true
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the ingester's metrics (the instance role may publish to this namespace only)."
  type        = string
  default     = "TweetSentiment/Ingester"

  validation {
    condition     = can(regex("^[A-Za-z0-9./_#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . / _ # : - and must not start with AWS/."
  }
}

variable "log_level" {
  description = "Log level of the ingester: DEBUG, INFO, WARNING, ERROR or CRITICAL (the levels ingester/config.py accepts)."
  type        = string
  default     = "INFO"

  # The ingester refuses any other LOG_LEVEL at start-up with exit 2, which systemd does not restart.
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (the levels the ingester accepts)."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}

variable "state_volume_size" {
  description = "Size in GiB of the separate encrypted gp3 EBS volume that holds the ingester's state directory (write-ahead log, disk spool), so that replacing the instance keeps its backlog. 0 = no separate volume (state on the root volume, lost with the instance)."
  type        = number
  default     = 8

  validation {
    condition     = var.state_volume_size == 0 || (var.state_volume_size >= 1 && var.state_volume_size <= 16384 && floor(var.state_volume_size) == var.state_volume_size)
    error_message = "state_volume_size must be 0 (no separate volume) or a whole number of GiB from 1 to 16384 (the gp3 size limit)."
  }
}

variable "opensearch_endpoint" {
  description = "Host name of the OpenSearch domain's HTTPS endpoint (no scheme): the ingester's deleter removes deleted posts there (OPENSEARCH_ENDPOINT)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+$", var.opensearch_endpoint))
    error_message = "opensearch_endpoint must be a host name without scheme or path (the domain's endpoint attribute)."
  }
}

variable "retention_days" {
  description = "Days posts stay in OpenSearch (RETENTION_DAYS): how long the ingester remembers the ids it accepted, for deletions."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "tombstone_days" {
  description = "Days a deletion is kept and enforced (TOMBSTONE_DAYS); at least retention_days."
  type        = number
  default     = 35

  validation {
    condition     = var.tombstone_days >= 1 && var.tombstone_days <= 3650 && floor(var.tombstone_days) == var.tombstone_days
    error_message = "tombstone_days must be a whole number of days between 1 and 3650 (and at least retention_days)."
  }
}

variable "tombstones_s3_prefix" {
  description = "s3://bucket/prefix/ the deleter publishes its tombstones under (ids only; TOMBSTONES_S3_URI = <prefix><service>.jsonl), read by make redrive. Null: not published."
  type        = string
  default     = null

  validation {
    condition     = var.tombstones_s3_prefix == null || can(regex("^s3://[a-z0-9.-]{3,63}/.+/$", var.tombstones_s3_prefix))
    error_message = "tombstones_s3_prefix must be s3://bucket/prefix/ (ending in a slash)."
  }
}
