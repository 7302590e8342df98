# Direct PUT delivery stream: the ingester puts envelopes, the transform Lambda turns them into
# documents, Firehose bulk-indexes them into daily indices and backs up what fails in S3.
#
# S3 layout of the backup bucket (the redrive tool reads these two prefixes). The S3 configuration sets
# no prefix: for an OpenSearch destination Firehose appends a fixed folder to the configured prefix and
# then the UTC arrival hour, so with an empty prefix objects land at
#   processing-failed/YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>.gz
#       records the transform returned as ProcessingFailed, or whose invocation kept failing
#   AmazonOpenSearchService-failed/YYYY/MM/DD/HH/<stream>-<n>-YYYY-MM-DD-HH-MM-SS-<uuid>.gz
#       documents OpenSearch rejected or that could not be delivered within opensearch.retry_duration
# Each object is GZIP-compressed JSON lines with rawData (base64), errorCode and errorMessage.
# error_output_prefix is not set: it applies to S3 destinations, not to an OpenSearch backup.

locals {
  # Firehose (and the provider, which keeps them out of state) treats parameters equal to their defaults
  # as unset: BufferSizeInMBs 1, BufferIntervalInSeconds 60. Sending them would show a change on every
  # plan, so they are sent only when they differ.
  processor_parameters = merge(
    { LambdaArn = var.processor.lambda_arn },
    var.processor.buffer_size == 1 ? {} : { BufferSizeInMBs = tostring(var.processor.buffer_size) },
    var.processor.buffer_interval == 60 ? {} : { BufferIntervalInSeconds = tostring(var.processor.buffer_interval) },
  )
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Log groups are encrypted by CloudWatch Logs with AWS-owned keys; delivery errors carry no secrets, so a customer-managed key adds cost without benefit.
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): operational delivery errors, not an audit trail.
  name              = "/aws/kinesisfirehose/${var.name}"
  retention_in_days = var.logging.retention_days

  tags = var.tags
}

resource "aws_cloudwatch_log_stream" "destination" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.this.name
}

resource "aws_cloudwatch_log_stream" "backup" {
  name           = "BackupDelivery"
  log_group_name = aws_cloudwatch_log_group.this.name
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  #checkov:skip=CKV_AWS_241:Records are encrypted at rest with an AWS-owned key (server_side_encryption enabled); a customer-managed key adds KMS cost per record batch and a key policy for Firehose without a reader outside this account.
  name        = var.name
  destination = "opensearch"

  server_side_encryption {
    enabled  = true
    key_type = "AWS_OWNED_CMK"
  }

  opensearch_configuration {
    domain_arn            = var.opensearch.domain_arn
    role_arn              = var.role_arn
    index_name            = var.opensearch.index_name
    index_rotation_period = var.opensearch.index_rotation_period
    buffering_interval    = var.opensearch.buffering_interval
    buffering_size        = var.opensearch.buffering_size
    retry_duration        = var.opensearch.retry_duration
    s3_backup_mode        = "FailedDocumentsOnly"

    # One document per tweet however often it is delivered: Firehose sends no document id and the index
    # template's default pipeline (tweets-id, applied by make opensearch-setup) sets _id = tweet_id, so a
    # resent tweet overwrites its document. FIREHOSE_DEFAULT ids are stable only across Firehose's own
    # retries, not across the ingester's at-least-once resends (docs/opensearch.md, "One document per tweet").
    document_id_options {
      default_document_id_format = "NO_DOCUMENT_ID"
    }

    s3_configuration {
      role_arn           = var.role_arn
      bucket_arn         = var.backup.bucket_arn
      buffering_interval = var.backup.buffering_interval
      buffering_size     = var.backup.buffering_size
      compression_format = "GZIP"

      cloudwatch_logging_options {
        enabled         = true
        log_group_name  = aws_cloudwatch_log_group.this.name
        log_stream_name = aws_cloudwatch_log_stream.backup.name
      }
    }

    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        dynamic "parameters" {
          for_each = local.processor_parameters

          content {
            parameter_name  = parameters.key
            parameter_value = parameters.value
          }
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this.name
      log_stream_name = aws_cloudwatch_log_stream.destination.name
    }

    dynamic "vpc_config" {
      for_each = var.opensearch.vpc == null ? [] : [var.opensearch.vpc]

      content {
        role_arn           = var.role_arn
        subnet_ids         = vpc_config.value.subnet_ids
        security_group_ids = vpc_config.value.security_group_ids
      }
    }
  }

  tags = merge(var.tags, { Name = var.name })
}
