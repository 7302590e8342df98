variable "vpc" {
  description = "The existing VPC's private subnets (the domain and Firehose's delivery interfaces, one per availability zone the domain uses; the ingester goes in the first) and the security groups of the domain and those interfaces (they must allow HTTPS in from themselves and from where Dashboards users connect)."
  type = object({
    private_subnet_ids = list(string)
    security_group_ids = list(string)
  })

  validation {
    condition = (
      length(var.vpc.private_subnet_ids) > 0 && length(var.vpc.security_group_ids) > 0
      && alltrue([for s in var.vpc.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
      && alltrue([for g in var.vpc.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", g))])
    )
    error_message = "vpc needs at least one subnet ID (subnet-...) and one security group ID (sg-...)."
  }
}
