# The transform function Firehose calls with batches of records (docs/design.md §2.3).

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs with AWS-owned keys; the function logs no secrets or whole tweets at INFO, so a customer-managed key adds cost without benefit.
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): operational logs, not an audit trail; a year of Lambda logs is a cost users opt into.
  name              = "/aws/lambda/${var.function.name}"
  retention_in_days = var.logging.retention_days

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Firehose invokes the processor synchronously and sends failed batches to the S3 backup itself; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls only public AWS APIs (Comprehend, CloudWatch); a VPC would need NAT or interface endpoints for no isolation gain.
  #checkov:skip=CKV_AWS_173:The environment holds configuration only (backend name, concurrency, log level), never a secret; the default Lambda service key encrypts it at rest.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile per deployment; the package is built from this repository by `make build` and its hash is tracked in state.
  #checkov:skip=CKV_AWS_50:X-Ray tracing of a Firehose processor adds per-trace cost and needs xray:PutTraceSegments and xray:PutTelemetryRecords on "*" (X-Ray has no resource-level permissions); the transform's CloudWatch metrics and logs cover its behaviour.
  #checkov:skip=CKV_AWS_115:Concurrency is a variable (root: lambda_reserved_concurrent_executions, default unreserved): Firehose bounds its own parallel invocations per stream, and a reservation takes capacity from the account's pool.
  function_name    = var.function.name
  description      = "Tweet sentiment transform: Firehose records -> OpenSearch documents with sentiment"
  role             = aws_iam_role.execution.arn
  filename         = var.function.zip_path
  source_code_hash = filebase64sha256(var.function.zip_path)
  handler          = var.function.handler
  runtime          = var.function.runtime
  architectures    = [var.function.architecture]
  memory_size      = var.function.memory_size
  timeout          = var.function.timeout

  reserved_concurrent_executions = var.function.reserved_concurrent_executions

  # Every code or configuration change publishes a new numbered version; Firehose invokes the `live` alias,
  # which moves to it, so the previous version stays available for a rollback (see the module README).
  publish = true

  environment {
    variables = {
      SENTIMENT_BACKEND      = var.sentiment.backend
      SENTIMENT_FALLBACK     = var.sentiment.fallback
      COMPREHEND_CONCURRENCY = tostring(var.sentiment.comprehend_concurrency)
      ENRICHMENTS            = join(",", var.sentiment.comprehend_enrichments)
      EMIT_METRICS           = var.metrics.enabled ? "true" : "false"
      METRICS_NAMESPACE      = var.metrics.namespace
      LOG_LEVEL              = var.logging.level
    }
  }

  tags = merge(var.tags, { Name = var.function.name })

  # The log group first (so Lambda never creates it without retention), and the role's policies: a first
  # invocation must already be allowed to write its logs and call Comprehend.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.logs, aws_iam_role_policy.comprehend]
}

# The alias Firehose invokes. An apply that changes the code moves it to the new version; rolling back is
# `aws lambda update-alias --function-name <name> --name live --function-version <previous>`.
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "Version the Firehose processor invokes"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}
