variable "dashboards_allowed_cidrs" {
  description = "Source CIDRs allowed to reach OpenSearch and Dashboards, e.g. [\"203.0.113.7/32\"] (your public IP)."
  type        = list(string)
}

variable "alarm_emails" {
  description = "Email addresses the alarm topic notifies (each confirms a subscription email)."
  type        = list(string)
  default     = []
}
