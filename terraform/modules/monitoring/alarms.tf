# Every alarm is one entry of alarms.yaml, created by the one aws_cloudwatch_metric_alarm below.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# The provider's Region: aws_service.region reads it on hashicorp/aws 5.100 and 6.x alike (aws_region.name is
# deprecated in 6.x, its successor aws_region.region absent from 5.x: docs/design.md, "Provider versions").
data "aws_service" "current" { service_id = "ec2" }

locals {
  # Where metrics come from: each source's namespace and the dimensions it publishes with (the Lambda's under
  # the alias Firehose invokes, reported as Resource = <function>:<alias>).
  sources = {
    ingester  = { namespace = var.ingester.metrics_namespace, dimensions = { DeliveryStream = var.ingester.delivery_stream_name } }
    firehose  = { namespace = "AWS/Firehose", dimensions = { DeliveryStreamName = var.ingester.delivery_stream_name } }
    lambda    = { namespace = "AWS/Lambda", dimensions = { FunctionName = var.transform.function_name, Resource = "${var.transform.function_name}:${var.transform.alias_name}" } }
    transform = { namespace = var.transform.metrics_namespace, dimensions = { Backend = var.transform.sentiment_backend } }
    domain    = { namespace = "AWS/ES", dimensions = { DomainName = var.opensearch.domain_name, ClientId = local.account_id } }
    instance  = { namespace = "AWS/EC2", dimensions = { InstanceId = var.ingester.instance_id } }
  }

  # key => { namespace, name, dimensions }: every metric the alarms and the dashboard read (metrics.yaml).
  metrics = merge([
    for source, names in yamldecode(file("${path.module}/metrics.yaml")) : {
      for key, name in names : key => merge(local.sources[source], { name = name })
    }
  ]...)

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_service.current.region

  # The thresholds' names and defaults (docs/operate.md, Alarms, lists them with the alarms).
  default_thresholds = {
    stream_disconnected_minutes = 5   # the issue's "disconnected for 5 minutes"
    no_posts_minutes            = 60  # connected, yet no post for an hour
    spool_full_percent          = 80  # of the ingester's spool cap
    x_usage_percent             = 80  # of X's monthly post-read cap (GET /2/usage/tweets)
    delivery_success_ratio      = 1   # Firehose's share of records indexed: anything below, for 15 minutes
    data_freshness_seconds      = 900 # AWS's recommended bound: the largest buffering interval (15 minutes)
    processing_failed_percent   = 5   # of the records the transform saw
    comprehend_throttle_percent = 10  # of the transform's Comprehend calls
    cluster_yellow_minutes      = 30  # replicas unassigned for longer than a relocation takes
    free_storage_percent        = 25  # of each data node's volume (AWS's recommended alarm)
    jvm_memory_pressure_percent = 80  # OpenSearch Service blocks writes at 92 %
  }
  t = merge(local.default_thresholds, var.thresholds)

  # What alarms.yaml may use: the thresholds, and values derived from them.
  template_values = merge(local.t, {
    no_posts_periods         = local.t.no_posts_minutes / 5
    cluster_yellow_periods   = local.t.cluster_yellow_minutes / 5
    delivery_success_percent = local.t.delivery_success_ratio * 100
    # FreeStorageSpace is in megabytes (MiB); the volume size in GiB.
    free_storage_mb = floor(var.opensearch.volume_size * 1024 * local.t.free_storage_percent / 100)
  })

  # The alarm catalogue (alarms.yaml: each entry's settings and how it treats missing data, with the reason),
  # with the defaults filled in; an alarm for another sentiment backend is left out.
  catalogue = yamldecode(templatefile("${path.module}/alarms.yaml", local.template_values))
  alarms = {
    for name, a in local.catalogue : name => {
      description         = a.description
      queries             = try(a.queries, { metric = { metric = a.metric, stat = a.stat } })
      expression          = try(a.expression, null)
      period              = try(a.period, 300)
      comparison          = a.comparison
      threshold           = a.threshold
      evaluation_periods  = try(a.periods, 1)
      datapoints_to_alarm = try(a.datapoints, a.periods, 1)
      missing             = a.missing
      ec2_action          = try(a.ec2_action, null)
    } if try(a.backend, var.transform.sentiment_backend) == var.transform.sentiment_backend
  }

  # EC2 alarm actions (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/UsingAlarmActions.html).
  ec2_action_arns = {
    recover = "arn:${local.partition}:automate:${local.region}:ec2:recover"
    reboot  = "arn:${local.partition}:automate:${local.region}:ec2:reboot"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.description} Runbook: docs/operate.md, Alarms."
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  treat_missing_data  = each.value.missing

  alarm_actions = compact([aws_sns_topic.this.arn, each.value.ec2_action == null ? "" : local.ec2_action_arns[each.value.ec2_action]])
  ok_actions    = [aws_sns_topic.this.arn]

  # One metric: the alarm's own metric fields (EC2 actions require them; an alarm on metric math cannot
  # act on an instance).
  namespace   = each.value.expression == null ? local.metrics[one(values(each.value.queries)).metric].namespace : null
  metric_name = each.value.expression == null ? local.metrics[one(values(each.value.queries)).metric].name : null
  dimensions  = each.value.expression == null ? local.metrics[one(values(each.value.queries)).metric].dimensions : null
  statistic   = each.value.expression == null ? one(values(each.value.queries)).stat : null
  period      = each.value.expression == null ? each.value.period : null

  # Several: each metric as a query, and the expression the alarm watches.
  dynamic "metric_query" {
    for_each = each.value.expression == null ? {} : each.value.queries

    content {
      id          = metric_query.key
      return_data = false

      metric {
        namespace   = local.metrics[metric_query.value.metric].namespace
        metric_name = local.metrics[metric_query.value.metric].name
        dimensions  = local.metrics[metric_query.value.metric].dimensions
        period      = each.value.period
        stat        = metric_query.value.stat
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]

    content {
      id          = "alarm"
      expression  = metric_query.value
      label       = each.key
      return_data = true
    }
  }

  tags = var.tags
}
