# The inputs come in groups by concern (the cluster, who reaches the endpoint, who signs in, the logs, the stack's
# roles), each an object whose fields keep their defaults through optional(), so the module stays usable with only
# domain_name and endpoint.allowed_cidrs set. A validation names the field it checks as group.field.

variable "domain_name" {
  description = "Name of the OpenSearch domain (3-28 characters: lowercase letter first, then lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,27}$", var.domain_name))
    error_message = "OpenSearch domain names are 3-28 characters, start with a lowercase letter and contain only lowercase letters, digits and hyphens."
  }
}

variable "cluster" {
  description = "The domain's nodes. engine_version (default OpenSearch_2.19); instance_type of the data nodes (default t3.small.search, enough for a small team's tweet volume; an m/r/c/or type for production load); instance_count (1-80 without a quota increase, default 1); volume_size, the gp3 EBS volume per data node in GiB (default 10; t3.small.search allows 10-100); zone_awareness_enabled (default false) spreads the data nodes over availability_zone_count zones (2 or 3, default 2; instance_count must then be a multiple of it); dedicated_master_enabled (default false; recommended for production clusters of 3+ data nodes) runs dedicated_master_count (3 or 5, default 3) masters of dedicated_master_type (default m6g.large.search); auto_tune_enabled (default false; refused for t2/t3 types, which do not support Auto-Tune and get no Auto-Tune options); timeouts of the domain's create/update/delete (90m each by default: real AWS takes 15-30 minutes to create a domain; emulators need short ones)."
  type = object({
    engine_version           = optional(string, "OpenSearch_2.19")
    instance_type            = optional(string, "t3.small.search")
    instance_count           = optional(number, 1)
    volume_size              = optional(number, 10)
    zone_awareness_enabled   = optional(bool, false)
    availability_zone_count  = optional(number, 2)
    dedicated_master_enabled = optional(bool, false)
    dedicated_master_type    = optional(string, "m6g.large.search")
    dedicated_master_count   = optional(number, 3)
    auto_tune_enabled        = optional(bool, false)
    timeouts = optional(object({
      create = optional(string, "90m")
      update = optional(string, "90m")
      delete = optional(string, "90m")
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^OpenSearch_[0-9]+\\.[0-9]+$", var.cluster.engine_version))
    error_message = "cluster.engine_version must look like OpenSearch_<major>.<minor> (fine-grained access control and this module need OpenSearch, not Elasticsearch)."
  }

  validation {
    condition     = can(regex("^[a-z0-9]+\\.[a-z0-9]+\\.search$", var.cluster.instance_type))
    error_message = "cluster.instance_type must be an OpenSearch Service instance type ending in .search, e.g. t3.small.search."
  }

  validation {
    condition     = var.cluster.instance_count >= 1 && var.cluster.instance_count <= 80 && floor(var.cluster.instance_count) == var.cluster.instance_count
    error_message = "cluster.instance_count must be a whole number between 1 and 80."
  }

  validation {
    condition     = var.cluster.volume_size >= 10 && var.cluster.volume_size <= 16384 && floor(var.cluster.volume_size) == var.cluster.volume_size
    error_message = "cluster.volume_size must be a whole number of GiB between 10 and 16384 (the per-node maximum depends on instance type)."
  }

  validation {
    condition     = contains([2, 3], var.cluster.availability_zone_count)
    error_message = "cluster.availability_zone_count must be 2 or 3."
  }

  # OpenSearch Service refuses a zone-aware domain whose data nodes do not split evenly over its zones.
  validation {
    condition     = !var.cluster.zone_awareness_enabled || var.cluster.instance_count % var.cluster.availability_zone_count == 0
    error_message = "With zone awareness, cluster.instance_count must be a multiple of cluster.availability_zone_count (OpenSearch Service needs the same number of data nodes in every zone)."
  }

  validation {
    condition     = contains([3, 5], var.cluster.dedicated_master_count)
    error_message = "cluster.dedicated_master_count must be 3 or 5."
  }

  # The root checks the same rule on its own variable names; test_shared_rules.py keeps one pattern.
  validation {
    condition     = !(var.cluster.auto_tune_enabled && can(regex("^t[23]\\.", var.cluster.instance_type)))
    error_message = "Auto-Tune is not supported on t2/t3 instance types: set cluster.auto_tune_enabled = false or choose another instance type."
  }
}

variable "endpoint" {
  description = "Where the HTTPS endpoint is, who reaches it, and how. allowed_cidrs: source CIDRs allowed to reach a public domain (Dashboards, setup scripts) besides roles.writer_arns; required (non-empty) for a public domain, must be empty for a VPC domain. vpc: subnet and security group IDs that place the domain in a VPC; null (default) = public endpoint with fine-grained access control. tls_security_policy: TLS 1.2 or newer (default Policy-Min-TLS-1-2-PFS-2023-10)."
  type = object({
    allowed_cidrs = optional(list(string), [])
    vpc = optional(object({
      subnet_ids         = list(string)
      security_group_ids = list(string)
    }))
    tls_security_policy = optional(string, "Policy-Min-TLS-1-2-PFS-2023-10")
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for c in var.endpoint.allowed_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c)])
    error_message = "Each endpoint.allowed_cidrs entry must be a valid CIDR block narrower than the whole internet, e.g. 203.0.113.10/32 (0.0.0.0/0 and ::/0 are refused)."
  }

  # A public endpoint with no source condition would be open to the internet.
  validation {
    condition     = var.endpoint.vpc != null || length(var.endpoint.allowed_cidrs) > 0
    error_message = "endpoint.allowed_cidrs is empty and the domain is public (endpoint.vpc = null), which would open it to the internet: list the networks that may reach it, e.g. [\"203.0.113.10/32\"], or set endpoint.vpc."
  }

  # AWS: IP-based access policies cannot be applied to domains inside a VPC (security groups do that job).
  validation {
    condition     = var.endpoint.vpc == null || length(var.endpoint.allowed_cidrs) == 0
    error_message = "endpoint.allowed_cidrs must be empty for a domain in a VPC: OpenSearch Service does not apply IP-based access policies to VPC domains; allow sources in the domain's security groups instead."
  }

  validation {
    condition     = contains(["Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10"], var.endpoint.tls_security_policy)
    error_message = "endpoint.tls_security_policy must be Policy-Min-TLS-1-2-2019-07 or Policy-Min-TLS-1-2-PFS-2023-10 (TLS 1.2 or newer)."
  }
}

variable "auth" {
  description = "Who signs in. admin_principal_arns: IAM principals (role or user ARNs; an account root only if you mean every principal its IAM policies allow) trusted to assume the admin role, the domain's master user; empty (default) = the role or user that applies Terraform (refused when that is the root user). dashboards_mfa_configuration of the Cognito users who sign in to Dashboards: ON (default; TOTP required, set up at the first login), OPTIONAL (each user may turn TOTP on) or OFF. cognito_domain_prefix of the hosted login domain (<prefix>.auth.<region>.amazoncognito.com); null (default) = <domain_name>-<account ID>, unique per Region as Cognito requires."
  type = object({
    admin_principal_arns         = optional(list(string), [])
    dashboards_mfa_configuration = optional(string, "ON")
    cognito_domain_prefix        = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for a in var.auth.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", a))])
    error_message = "Each auth.admin_principal_arns entry must be an IAM ARN of an account root, role or user, e.g. arn:aws:iam::123456789012:role/Admin (a role trust policy accepts no wildcards or groups)."
  }

  validation {
    condition     = contains(["ON", "OPTIONAL", "OFF"], var.auth.dashboards_mfa_configuration)
    error_message = "auth.dashboards_mfa_configuration must be ON, OPTIONAL or OFF (Cognito user pool MfaConfiguration)."
  }

  validation {
    condition     = var.auth.cognito_domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.auth.cognito_domain_prefix, "x"))) && !can(regex("aws|amazon|cognito", coalesce(var.auth.cognito_domain_prefix, "x"))))
    error_message = "auth.cognito_domain_prefix must be 1-63 lowercase letters, digits and hyphens (no leading or trailing hyphen) and must not contain aws, amazon or cognito (Cognito limits)."
  }
}

# Roles made elsewhere in the stack, which the caller knows only once their modules apply. They stand apart from the
# groups above (the domain's own settings, checked early in a plan) because Terraform orders a variable as one
# node: an object mixing them would wait for those modules, and the root's monitoring module, which reads this
# module's outputs, would close a dependency cycle.
variable "roles" {
  description = "Roles of the rest of the stack the domain grants something to. writer_arns: IAM roles that sign requests to the public domain from AWS networks (the Firehose role), allowed without a source-IP condition. admin_may_pass_arns: IAM roles the admin role may pass to OpenSearch Service (iam:PassRole, iam:PassedToService es.amazonaws.com), the role the alert's SNS channel publishes with; empty (default) = no PassRole grant."
  type = object({
    writer_arns         = optional(list(string), [])
    admin_may_pass_arns = optional(list(string), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for a in var.roles.admin_may_pass_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each roles.admin_may_pass_arns entry must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/tweets-opensearch-alerts."
  }
}

variable "logs" {
  description = "The domain's CloudWatch logs. types published: ES_APPLICATION_LOGS, INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS (the default three) and AUDIT_LOGS. resource_policy: create (default), a CloudWatch Logs resource policy for this domain's log groups; existing, none, the account already has one letting es.amazonaws.com write to /aws/OpenSearchService/domains/* (CloudWatch Logs allows 10 resource policies per account and Region). retention_days of the log groups (one of the values CloudWatch Logs accepts, default 30)."
  type = object({
    types           = optional(list(string), ["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"])
    resource_policy = optional(string, "create")
    retention_days  = optional(number, 30)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for t in var.logs.types : contains(["ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "AUDIT_LOGS"], t)])
    error_message = "logs.types entries must be ES_APPLICATION_LOGS, INDEX_SLOW_LOGS, SEARCH_SLOW_LOGS or AUDIT_LOGS."
  }

  validation {
    condition     = contains(["create", "existing"], var.logs.resource_policy)
    error_message = "logs.resource_policy must be create or existing (existing: the account already has a CloudWatch Logs resource policy for es.amazonaws.com on /aws/OpenSearchService/domains/*; the quota is 10 per account and Region)."
  }

  # A copy of the root's list, so the module stands alone; tests/unit/terraform/test_shared_rules.py keeps them equal.
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.logs.retention_days)
    error_message = "logs.retention_days must be one of the CloudWatch Logs retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
