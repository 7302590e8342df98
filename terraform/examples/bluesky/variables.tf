variable "aws_region" {
  description = "AWS Region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Name of the stack (the domain, stream and role names derive from it)."
  type        = string
  default     = "bluesky-sentiment"
}

variable "tracked_terms" {
  description = "Terms a Bluesky post must contain to be kept (matched locally by the ingester)."
  type        = list(string)
  default     = ["aws", "amazon web services"]
}

variable "dashboards_allowed_cidrs" {
  description = "Source CIDRs allowed to reach OpenSearch and Dashboards, e.g. [\"203.0.113.7/32\"] (your public IP)."
  type        = list(string)
}
