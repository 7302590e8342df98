# A private, encrypted, versioned, TLS-only bucket. The root uses it twice: for failed Firehose records
# (processing-failed/ and AmazonOpenSearchService-failed/, read by the redrive tool; force_destroy off)
# and for the ingester bundle (reproducible by `make build`; force_destroy on so destroy can remove
# its old versions).

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logging needs a second bucket per deployment; Firehose and the redrive tool are the only writers and CloudTrail data events cover audits where required.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost for records that are either redriven or expire; users who need it can add a replication rule.
  #checkov:skip=CKV2_AWS_62:No consumer needs event notifications; the redrive tool lists the failed-record prefixes on demand.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) encrypts every object at rest with no per-request KMS cost; a customer-managed key adds cost without protecting against any threat in this design.
  bucket        = var.bucket.name
  force_destroy = var.bucket.force_destroy

  tags = merge(var.tags, { Name = var.bucket.name })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.expiration.incomplete_multipart_upload_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.expiration.noncurrent_version_days
    }
  }

  # Once every version under a key has expired, its delete marker is all that is left: remove it too,
  # so an emptied bucket really is empty.
  rule {
    id     = "remove-expired-delete-markers"
    status = "Enabled"

    filter {}

    expiration {
      expired_object_delete_marker = true
    }
  }

  # The two folders Firehose writes failed records to (see modules/firehose): they hold post text, so they expire
  # (the root sets at most retention_days - 1, plus the day for the non-current version: gone within the
  # retention window, as the index is). Static rules rather than a dynamic block, so scanners see every rule;
  # with failed_records_expiration_days = 0 (the artifacts bucket, which has no such folders) they are disabled.
  rule {
    id     = "expire-processing-failed"
    status = var.expiration.failed_records_days > 0 ? "Enabled" : "Disabled"

    filter {
      prefix = "processing-failed/"
    }

    expiration {
      days = max(var.expiration.failed_records_days, 1)
    }

    # The bucket is versioned: expiring adds a delete marker and keeps the text in a non-current version. It goes
    # a day later (where two rules overlap, S3 honours the shorter expiration).
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "expire-opensearch-failed"
    status = var.expiration.failed_records_days > 0 ? "Enabled" : "Disabled"

    filter {
      prefix = "AmazonOpenSearchService-failed/"
    }

    expiration {
      days = max(var.expiration.failed_records_days, 1)
    }

    # The bucket is versioned: expiring adds a delete marker and keeps the text in a non-current version. It goes
    # a day later (where two rules overlap, S3 honours the shorter expiration).
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

locals {
  # One rule, two conditions: anyone's request for the bucket or its objects is denied when it does not use TLS,
  # or uses a TLS version older than 1.2. One Deny statement per condition (statement Sid => its condition):
  # conditions within one statement would have to hold together.
  tls_deny_conditions = {
    DenyInsecureTransport = { test = "Bool", variable = "aws:SecureTransport", values = ["false"] }
    DenyOutdatedTls       = { test = "NumericLessThan", variable = "s3:TlsVersion", values = ["1.2"] }
  }
}

data "aws_iam_policy_document" "tls_only" {
  dynamic "statement" {
    for_each = local.tls_deny_conditions

    content {
      sid     = statement.key
      effect  = "Deny"
      actions = ["s3:*"]
      resources = [
        aws_s3_bucket.this.arn,
        "${aws_s3_bucket.this.arn}/*",
      ]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = statement.value.values
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
