# The transform function Firehose calls with batches of records (DESIGN 2.3).

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs with AWS-owned keys; the function logs no secrets or whole tweets at INFO, so a customer-managed key adds cost without benefit.
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): operational logs, not an audit trail; a year of Lambda logs is a cost users opt into.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Firehose invokes the processor synchronously and sends failed batches to the S3 backup itself; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls only public AWS APIs (Comprehend, CloudWatch); a VPC would need NAT or interface endpoints for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds configuration only (backend name, concurrency, log level), never a secret; the default Lambda service key encrypts it at rest.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile per deployment; the package is built from this repository by `make build` and its hash is tracked in state.
  #checkov:skip=CKV_AWS_50:X-Ray tracing of a Firehose processor adds cost and needs xray:* on "*"; CloudWatch metrics and logs cover its behaviour.
  #checkov:skip=CKV_AWS_115:Concurrency is a variable (reserved_concurrent_executions, default unreserved): Firehose bounds its own parallel invocations per stream.
  function_name    = var.function_name
  description      = "Tweet sentiment transform: Firehose records -> OpenSearch documents with sentiment"
  role             = var.role_arn
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = {
      SENTIMENT_BACKEND      = var.sentiment_backend
      COMPREHEND_CONCURRENCY = tostring(var.comprehend_concurrency)
      EMIT_METRICS           = var.emit_metrics ? "true" : "false"
      METRICS_NAMESPACE      = var.metrics_namespace
      LOG_LEVEL              = var.log_level
    }
  }

  tags = merge(var.tags, { Name = var.function_name })

  depends_on = [aws_cloudwatch_log_group.this]
}
