variable "domain_name" {
  description = "Name of the OpenSearch domain (3-28 characters: lowercase letter first, then lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.domain_name))
    error_message = "OpenSearch domain names are 3-28 characters, start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "engine_version" {
  description = "Engine version, e.g. OpenSearch_2.19."
  type        = string
  default     = "OpenSearch_2.19"

  validation {
    condition     = can(regex("^OpenSearch_[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must look like OpenSearch_<major>.<minor> (fine-grained access control and this module need OpenSearch, not Elasticsearch)."
  }
}

variable "instance_type" {
  description = "Data node instance type. t3.small.search suits a small team's tweet volume; use an m/r/c/or type for production load."
  type        = string
  default     = "t3.small.search"

  validation {
    condition     = can(regex("^[a-z0-9]+\\.[a-z0-9]+\\.search$", var.instance_type))
    error_message = "instance_type must be an OpenSearch Service instance type ending in .search, e.g. t3.small.search."
  }
}

variable "instance_count" {
  description = "Number of data nodes (1-80 without a quota increase). Use an even number >= 2 with zone awareness."
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 80 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number between 1 and 80."
  }

  # OpenSearch Service refuses a zone-aware domain whose data nodes do not split evenly over its zones.
  validation {
    condition     = !var.zone_awareness_enabled || var.instance_count % var.availability_zone_count == 0
    error_message = "With zone awareness, instance_count must be a multiple of availability_zone_count (OpenSearch Service needs the same number of data nodes in every zone)."
  }
}

variable "zone_awareness_enabled" {
  description = "Spread data nodes across availability zones (needs instance_count a multiple of availability_zone_count)."
  type        = bool
  default     = false
}

variable "availability_zone_count" {
  description = "Availability zones used when zone awareness is on (2 or 3)."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.availability_zone_count)
    error_message = "availability_zone_count must be 2 or 3."
  }
}

variable "dedicated_master_enabled" {
  description = "Run dedicated master nodes (recommended for production clusters of 3+ data nodes)."
  type        = bool
  default     = false
}

variable "dedicated_master_type" {
  description = "Instance type of the dedicated master nodes (used when dedicated_master_enabled)."
  type        = string
  default     = "m6g.large.search"
}

variable "dedicated_master_count" {
  description = "Number of dedicated master nodes: 3 or 5 (used when dedicated_master_enabled)."
  type        = number
  default     = 3

  validation {
    condition     = contains([3, 5], var.dedicated_master_count)
    error_message = "dedicated_master_count must be 3 or 5."
  }
}

variable "volume_size" {
  description = "gp3 EBS volume per data node, in GiB (t3.small.search allows 10-100 GiB)."
  type        = number
  default     = 10

  validation {
    condition     = var.volume_size >= 10 && var.volume_size <= 16384 && floor(var.volume_size) == var.volume_size
    error_message = "volume_size must be a whole number of GiB between 10 and 16384 (the per-node maximum depends on instance type)."
  }
}

variable "auto_tune_enabled" {
  description = "Enable Auto-Tune. Ignored for t2/t3 instance types, which do not support it (no Auto-Tune options are sent for them)."
  type        = bool
  default     = false

  # The root checks the same rule on its own variable names; test_shared_rules.py keeps one pattern.
  validation {
    condition     = !(var.auto_tune_enabled && can(regex("^t[23]\\.", var.instance_type)))
    error_message = "Auto-Tune is not supported on t2/t3 instance types: set auto_tune_enabled = false or choose another instance type."
  }
}

variable "admin_principal_arns" {
  description = "IAM principals (role or user ARNs; an account root only if you mean every principal its IAM policies allow) trusted to assume the admin role, the domain's master user. Empty = the role or user that applies Terraform (refused when that is the root user)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "Each admin_principal_arns entry must be an IAM ARN of an account root, role or user, e.g. arn:aws:iam::123456789012:role/Admin (a role trust policy accepts no wildcards or groups)."
  }
}

variable "admin_pass_role_arns" {
  description = "IAM roles the admin role may pass to OpenSearch Service (iam:PassRole, iam:PassedToService es.amazonaws.com): the role the alert's SNS channel publishes with. Empty = no PassRole grant."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_pass_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each admin_pass_role_arns entry must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/tweets-opensearch-alerts."
  }
}

variable "dashboards_mfa_configuration" {
  description = "MFA of the Cognito users who sign in to Dashboards: ON (TOTP required, set up at the first login), OPTIONAL (each user may turn TOTP on) or OFF."
  type        = string
  default     = "ON"

  validation {
    condition     = contains(["ON", "OPTIONAL", "OFF"], var.dashboards_mfa_configuration)
    error_message = "dashboards_mfa_configuration must be ON, OPTIONAL or OFF (Cognito user pool MfaConfiguration)."
  }
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito hosted login domain (<prefix>.auth.<region>.amazoncognito.com). Null = <domain_name>-<account ID>, unique per Region as Cognito requires."
  type        = string
  default     = null

  validation {
    condition     = var.cognito_domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.cognito_domain_prefix, "x"))) && !can(regex("aws|amazon|cognito", coalesce(var.cognito_domain_prefix, "x"))))
    error_message = "cognito_domain_prefix must be 1-63 lowercase letters, digits and hyphens (no leading or trailing hyphen) and must not contain aws, amazon or cognito (Cognito limits)."
  }
}

variable "tls_security_policy" {
  description = "TLS policy of the HTTPS endpoint (TLS 1.2 minimum or newer)."
  type        = string
  default     = "Policy-Min-TLS-1-2-PFS-2023-10"

  validation {
    condition     = contains(["Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10"], var.tls_security_policy)
    error_message = "tls_security_policy must be Policy-Min-TLS-1-2-2019-07 or Policy-Min-TLS-1-2-PFS-2023-10 (TLS 1.2 or newer)."
  }
}

variable "writer_role_arns" {
  description = "IAM role ARNs that sign requests to the public domain from AWS networks (the Firehose role): allowed without a source-IP condition."
  type        = list(string)
  default     = []
}

variable "dashboards_allowed_cidrs" {
  description = "Source CIDRs allowed to reach the public domain endpoint (Dashboards, setup scripts) besides writer_role_arns. Required (non-empty) for a public domain; must be empty for a VPC domain."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.dashboards_allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each dashboards_allowed_cidrs entry must be a valid CIDR block narrower than the whole internet, e.g. 203.0.113.10/32 (0.0.0.0/0 and ::/0 are refused)."
  }

  # A public endpoint with no source condition would be open to the internet.
  validation {
    condition     = var.vpc_options != null || length(var.dashboards_allowed_cidrs) > 0
    error_message = "dashboards_allowed_cidrs is empty and the domain is public (vpc_options = null), which would open it to the internet: list the networks that may reach it, e.g. [\"203.0.113.10/32\"], or set vpc_options."
  }

  # AWS: IP-based access policies cannot be applied to domains inside a VPC (security groups do that job).
  validation {
    condition     = var.vpc_options == null || length(var.dashboards_allowed_cidrs) == 0
    error_message = "dashboards_allowed_cidrs must be empty for a domain in a VPC: OpenSearch Service does not apply IP-based access policies to VPC domains; allow sources in the domain's security groups instead."
  }
}

variable "vpc_options" {
  description = "Place the domain in a VPC (subnet and security group IDs). Null = public endpoint with fine-grained access control."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "log_types" {
  description = "OpenSearch logs published to CloudWatch Logs (ES_APPLICATION_LOGS, INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS, AUDIT_LOGS)."
  type        = list(string)
  default     = ["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"]

  validation {
    condition     = alltrue([for t in var.log_types : contains(["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "AUDIT_LOGS"], t)])
    error_message = "log_types entries must be ES_APPLICATION_LOGS, INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS or AUDIT_LOGS."
  }
}

variable "log_resource_policy" {
  description = "create: a CloudWatch Logs resource policy for this domain's log groups. existing: none; the account already has one letting es.amazonaws.com write to /aws/OpenSearchService/domains/* (CloudWatch Logs allows 10 resource policies per account and Region)."
  type        = string
  default     = "create"

  validation {
    condition     = contains(["create", "existing"], var.log_resource_policy)
    error_message = "log_resource_policy must be create or existing (existing: the account already has a CloudWatch Logs resource policy for es.amazonaws.com on /aws/OpenSearchService/domains/*; the quota is 10 per account and Region)."
  }
}

variable "log_retention_days" {
  description = "Retention of the domain's CloudWatch log groups, in days (one of the values CloudWatch Logs accepts)."
  type        = number
  default     = 30

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "timeouts" {
  description = "Create/update/delete timeouts of the domain. Real AWS needs long ones (creation takes 15-30 minutes); emulators need short ones."
  type = object({
    create = optional(string, "90m")
    update = optional(string, "90m")
    delete = optional(string, "90m")
  })
  default = {}
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
