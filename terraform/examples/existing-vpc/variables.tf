variable "aws_region" {
  description = "AWS Region of the VPC."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Name of the stack (the domain, stream and role names derive from it)."
  type        = string
  default     = "tweet-sentiment"
}

variable "private_subnet_ids" {
  description = "Private subnets of the existing VPC for the OpenSearch domain and Firehose's delivery interfaces (one per availability zone the domain uses: one without zone awareness); the ingester goes in the first."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) > 0 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids needs at least one subnet ID (subnet-...)."
  }
}

variable "opensearch_security_group_ids" {
  description = "Security groups of the domain and of Firehose's delivery interfaces: they must allow HTTPS (443) in from themselves and from wherever Dashboards users connect."
  type        = list(string)

  validation {
    condition     = length(var.opensearch_security_group_ids) > 0 && alltrue([for g in var.opensearch_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", g))])
    error_message = "opensearch_security_group_ids needs at least one security group ID (sg-...)."
  }
}
