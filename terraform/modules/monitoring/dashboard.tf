# Pipeline health on one page: the ingester's posts in and out and its spool, Firehose, the transform, the
# domain, and the state of every alarm. Metrics come from local.metrics (alarms.tf), written out in full
# (no "." shorthand) so the contract test reads them as it reads the alarms.

locals {
  # [namespace, name, dimension name, value, ...] as a dashboard metric line (options appended per graph).
  metric_line = {
    for key, m in local.metrics : key => concat([m.namespace, m.name], flatten([for k in sort(keys(m.dimensions)) : [k, m.dimensions[k]]]))
  }

  # title => (metric key => statistic), in reading order; each graph is 8 wide and 6 high, three a row.
  graphs = [
    { title = "Ingester: posts in and out (per minute)", period = 60, lines = { received = "Sum", delivered = "Sum", spooled = "Sum", dropped = "Sum" } },
    { title = "Ingester: spool", period = 60, lines = { spool_records = "Maximum", spool_full_percent = "Maximum" } },
    { title = "Ingester: stream connected, storage errors", period = 60, lines = { stream_connected = "Minimum", storage_errors = "Sum" } },
    { title = "Firehose: records in and indexed", period = 300, lines = { incoming_records = "Sum", delivered_records = "Sum" } },
    { title = "Firehose: delivery success (share)", period = 300, lines = { delivery_success = "Average" } },
    { title = "Firehose: data freshness (s)", period = 300, lines = { data_freshness = "Maximum" } },
    { title = "Transform: invocations, errors, throttles", period = 300, lines = { invocations = "Sum", lambda_errors = "Sum", lambda_throttles = "Sum" } },
    { title = "Transform: records", period = 300, lines = { records = "Sum", records_ok = "Sum", records_failed = "Sum" } },
    { title = "Transform: sentiment API calls and throttles", period = 300, lines = { api_calls = "Sum", api_throttles = "Sum" } },
    { title = "Domain: cluster status, writes blocked", period = 60, lines = { cluster_red = "Maximum", cluster_yellow = "Maximum", writes_blocked = "Maximum" } },
    { title = "Domain: free storage (MiB, least node)", period = 300, lines = { free_storage = "Minimum" } },
    { title = "Domain: JVM memory pressure and CPU (%)", period = 300, lines = { jvm_pressure = "Maximum", cpu = "Maximum" } },
  ]

  widgets = concat(
    [
      {
        type   = "alarm"
        x      = 0
        y      = 0
        width  = 24
        height = 4
        properties = {
          title = "Alarms"
          # Built from the names (not read from the alarms) so the whole body is known at plan time.
          alarms = [for key in sort(keys(local.alarms)) : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-${key}"]
        }
      },
    ],
    [
      for index, graph in local.graphs : {
        type   = "metric"
        x      = (index % 3) * 8
        y      = 4 + floor(index / 3) * 6
        width  = 8
        height = 6
        properties = {
          title   = graph.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = graph.period
          metrics = [for key, stat in graph.lines : concat(local.metric_line[key], [{ stat = stat, label = local.metrics[key].name }])]
        }
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-pipeline"
  dashboard_body = jsonencode({ widgets = local.widgets })

  depends_on = [aws_cloudwatch_metric_alarm.this]
}
