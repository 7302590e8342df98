variable "aws_region" {
  description = "AWS Region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Name of the stack (the domain, stream and role names derive from it)."
  type        = string
  default     = "tweet-sentiment"
}

variable "dashboards_allowed_cidrs" {
  description = "Source CIDRs allowed to reach OpenSearch and Dashboards, e.g. [\"203.0.113.7/32\"] (your public IP)."
  type        = list(string)
}

variable "alarm_emails" {
  description = "Email addresses the alarm topic notifies (each confirms a subscription email)."
  type        = list(string)
  default     = []
}
