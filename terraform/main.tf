# Tweet sentiment pipeline: ingester (EC2) -> Firehose -> transform Lambda -> OpenSearch, with failed
# records in S3. Names and ARNs the modules grant each other access to are derived here from
# name_prefix, so the IAM policies can name exact resources without dependency cycles.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  domain_name             = var.name_prefix
  domain_arn              = "arn:${local.partition}:es:${var.aws_region}:${local.account_id}:domain/${local.domain_name}"
  delivery_stream_name    = var.name_prefix
  firehose_log_group_name = "/aws/kinesisfirehose/${local.delivery_stream_name}"
  transform_function_name = "${var.name_prefix}-transform"
  backup_bucket_name      = coalesce(var.backup_bucket_name, "${var.name_prefix}-backup-${local.account_id}-${var.aws_region}")
  artifacts_bucket_name   = coalesce(var.artifacts_bucket_name, "${var.name_prefix}-bundle-${local.account_id}-${var.aws_region}")
  bundle_key              = "ingester/ingester-bundle.tar.gz"
  x_token_parameter_name  = "/${var.name_prefix}/x-bearer-token"

  lambda_zip_path      = coalesce(var.lambda_zip_path, "${path.module}/../dist/transform.zip")
  ingester_bundle_path = coalesce(var.ingester_bundle_path, "${path.module}/../dist/ingester-bundle.tar.gz")
}

# ---------------------------------------------------------------------------------------------------
# Default network for the ingester (only when no subnet is given)
# ---------------------------------------------------------------------------------------------------

# aws_vpcs (not aws_vpc) so that an account without a default VPC, common in landing-zone accounts, gets
# the precondition's message below instead of the provider's "no matching EC2 VPC found".
data "aws_vpcs" "default" {
  count = var.ingester_subnet_id == null ? 1 : 0

  filter {
    name   = "is-default"
    values = ["true"]
  }
}

data "aws_ec2_instance_type_offerings" "ingester" {
  count = var.ingester_subnet_id == null ? 1 : 0

  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.ingester_instance_type]
  }
}

data "aws_subnets" "default" {
  count = var.ingester_subnet_id == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = data.aws_vpcs.default[0].ids
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }

  filter {
    name   = "availability-zone"
    values = data.aws_ec2_instance_type_offerings.ingester[0].locations
  }

  lifecycle {
    precondition {
      condition     = length(data.aws_vpcs.default[0].ids) == 1
      error_message = "No default VPC in ${var.aws_region} (common in landing-zone accounts): set ingester_subnet_id to a subnet with outbound HTTPS (a private subnet with NAT, or a public one with ingester_associate_public_ip = true)."
    }

    postcondition {
      condition     = length(self.ids) > 0
      error_message = "The default VPC in ${var.aws_region} has no default subnet in an availability zone that offers ${var.ingester_instance_type}: set ingester_subnet_id, or choose another ingester_instance_type."
    }
  }
}

locals {
  ingester_subnet_id = var.ingester_subnet_id != null ? var.ingester_subnet_id : sort(data.aws_subnets.default[0].ids)[0]
}

# ---------------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------------

module "s3" {
  source = "./modules/s3"

  bucket = {
    name          = local.backup_bucket_name
    force_destroy = var.force_destroy_bucket
  }
  expiration = {
    failed_records_days = coalesce(var.failed_records_expiration_days, max(var.retention_days - 1, 1))
  }
}

# The ingester bundle lives apart from the failed records: it is rebuilt by `make build`, so this
# bucket may be destroyed with its object versions, while the backup bucket keeps force_destroy off.
module "artifacts" {
  source = "./modules/s3"

  bucket = {
    name          = local.artifacts_bucket_name
    force_destroy = true
  }
  expiration = {
    failed_records_days = 0
  }
}

module "iam" {
  source = "./modules/iam"

  name_prefix = var.name_prefix
  firehose = {
    stream_name             = local.delivery_stream_name
    log_group_name          = local.firehose_log_group_name
    transform_function_name = local.transform_function_name
    vpc_delivery            = var.opensearch_vpc != null
  }
  opensearch = {
    domain_arn        = local.domain_arn
    index_name_prefix = var.index_name
  }
  ingester = {
    ssm_parameter_names = [local.x_token_parameter_name]
    bundle_object_arn   = "${module.artifacts.bucket_arn}/${local.bundle_key}"
    metrics_namespace   = var.ingester_metrics_namespace
  }
  backup_bucket_arn = module.s3.bucket_arn
}

module "opensearch" {
  source = "./modules/opensearch"

  domain_name = local.domain_name
  cluster = {
    engine_version           = var.opensearch_engine_version
    instance_type            = var.opensearch_instance_type
    instance_count           = var.opensearch_instance_count
    volume_size              = var.opensearch_volume_size
    zone_awareness_enabled   = var.opensearch_zone_awareness_enabled
    availability_zone_count  = var.opensearch_availability_zone_count
    dedicated_master_enabled = var.opensearch_dedicated_master_enabled
    auto_tune_enabled        = var.opensearch_auto_tune_enabled
    timeouts                 = var.opensearch_timeouts
  }
  endpoint = {
    allowed_cidrs = var.dashboards_allowed_cidrs
    vpc           = var.opensearch_vpc
  }
  logs = {
    types           = var.opensearch_log_types
    resource_policy = var.opensearch_log_resource_policy
    retention_days  = var.log_retention_days
  }

  # Authentication: IAM master user (admin role) and the Cognito login of Dashboards.
  auth = {
    admin_principal_arns         = var.opensearch_admin_principal_arns
    dashboards_mfa_configuration = var.dashboards_mfa_configuration
    cognito_domain_prefix        = var.dashboards_cognito_domain_prefix
  }
  # Apart from the groups above: known after their modules apply, and monitoring reads this module's outputs.
  roles = {
    writer_arns         = [module.iam.firehose_role_arn]
    admin_may_pass_arns = module.monitoring[*].sentiment_alert_role_arn
  }
}

module "lambda" {
  source = "./modules/lambda"

  function = {
    name                           = local.transform_function_name
    zip_path                       = local.lambda_zip_path
    runtime                        = var.lambda_runtime
    architecture                   = var.lambda_architecture
    memory_size                    = var.lambda_memory_size
    timeout                        = var.lambda_timeout
    reserved_concurrent_executions = var.lambda_reserved_concurrent_executions
  }
  sentiment = {
    backend                = var.sentiment_backend
    fallback               = var.sentiment_fallback
    comprehend_concurrency = var.comprehend_concurrency
    comprehend_enrichments = var.comprehend_enrichments
  }
  metrics = {
    enabled   = var.transform_emit_metrics || var.monitoring_enabled # the alarms watch them
    namespace = var.transform_metrics_namespace
  }
  logging = {
    level          = var.transform_log_level
    retention_days = var.log_retention_days
  }
}

# Buffering presets (docs/costs.md): realtime = no buffering before the transform or OpenSearch, so a post is
# searchable seconds after the ingester reads it; batch = Firehose's own defaults, for high-volume streams.
locals {
  buffering_presets = {
    realtime = { processor_interval = 0, processor_size = 1, destination_interval = 0, destination_size = 5 }
    batch    = { processor_interval = 60, processor_size = 1, destination_interval = 300, destination_size = 5 }
  }
  buffering = local.buffering_presets[var.buffering_preset]
}

module "firehose" {
  source = "./modules/firehose"

  name     = local.delivery_stream_name
  role_arn = module.iam.firehose_role_arn
  opensearch = {
    domain_arn            = module.opensearch.domain_arn
    index_name            = var.index_name
    index_rotation_period = var.index_rotation_period
    buffering_interval    = coalesce(var.firehose_buffering_interval, local.buffering.destination_interval)
    buffering_size        = coalesce(var.firehose_buffering_size, local.buffering.destination_size)
    retry_duration        = var.firehose_retry_duration
    vpc                   = var.opensearch_vpc
  }
  processor = {
    lambda_arn      = module.lambda.alias_arn
    buffer_size     = coalesce(var.processor_buffer_size, local.buffering.processor_size)
    buffer_interval = coalesce(var.processor_buffer_interval, local.buffering.processor_interval)
  }
  backup = {
    bucket_arn = module.s3.bucket_arn
  }
  logging = {
    retention_days = var.log_retention_days
  }

  # The stream validates on creation that its role can reach the bucket, domain and function.
  depends_on = [module.iam]
}

module "ingester" {
  source = "./modules/ingester"

  name                          = "${var.name_prefix}-ingester"
  subnet_id                     = local.ingester_subnet_id
  architecture                  = var.ingester_architecture
  instance_type                 = var.ingester_instance_type
  ami_id                        = var.ingester_ami_id
  detailed_monitoring           = var.ingester_detailed_monitoring
  associate_public_ip_address   = var.ingester_associate_public_ip
  ssh_allowed_cidrs             = var.ssh_allowed_cidrs
  key_name                      = var.ssh_key_name
  root_volume_size              = var.ingester_root_volume_size
  state_volume_size             = var.ingester_state_volume_size
  instance_profile_name         = module.iam.ingester_instance_profile_name
  artifacts_bucket_name         = module.artifacts.bucket_name
  bundle_key                    = local.bundle_key
  bundle_path                   = local.ingester_bundle_path
  delivery_stream_name          = module.firehose.delivery_stream_name
  ingester_source               = var.ingester_source
  tracked_terms                 = var.tracked_terms
  x_bearer_token_parameter_name = local.x_token_parameter_name
  instance_role_arn             = module.iam.ingester_role_arn
  token_key_deletion_days       = var.x_bearer_token_key_deletion_days
  max_posts_per_day             = var.max_posts_per_day
  cloudwatch_metrics            = var.ingester_cloudwatch_metrics || var.monitoring_enabled # the alarms watch them
  metrics_namespace             = var.ingester_metrics_namespace
  log_level                     = var.ingester_log_level
  opensearch_endpoint           = module.opensearch.domain_endpoint
  retention_days                = var.retention_days
  tombstone_days                = coalesce(var.tombstone_days, var.retention_days + 5)
  tombstones_s3_prefix          = "s3://${module.s3.bucket_name}/tombstones/"
}

module "monitoring" {
  source = "./modules/monitoring"
  count  = var.monitoring_enabled ? 1 : 0

  name_prefix  = var.name_prefix
  alarm_emails = var.alarm_emails
  thresholds   = var.alarm_thresholds
  ingester = {
    delivery_stream_name = module.firehose.delivery_stream_name
    metrics_namespace    = var.ingester_metrics_namespace
    instance_id          = module.ingester.instance_id
  }
  transform = {
    function_name     = module.lambda.function_name
    alias_name        = module.lambda.alias_name
    metrics_namespace = var.transform_metrics_namespace
    sentiment_backend = var.sentiment_backend
  }
  opensearch = {
    domain_name                = module.opensearch.domain_name
    volume_size                = var.opensearch_volume_size
    service_assume_role_policy = module.opensearch.service_assume_role_policy_json
  }
}
