# Least-privilege roles of the Firehose stream and the ingester box. Every ARN is built from the names the
# root passes in, so this module does not depend on the resources it grants access to (no cycles) and
# each grant names exactly one stream, function, domain, bucket, log group or parameter. (The transform
# Lambda's role lives with the function, in modules/lambda/iam.tf.)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# The provider's Region: aws_service.region reads it on hashicorp/aws 5.100 and 6.x alike (aws_region.name is
# deprecated in 6.x, its successor aws_region.region absent from 5.x: docs/design.md, "Provider versions").
data "aws_service" "current" { service_id = "ec2" }

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_service.current.region

  delivery_stream_arn     = "arn:${local.partition}:firehose:${local.region}:${local.account_id}:deliverystream/${var.firehose.stream_name}"
  firehose_log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${var.firehose.log_group_name}"
  transform_function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.firehose.transform_function_name}"
  ingester_parameter_arns = [for n in var.ingester.ssm_parameter_names : "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${n}"]
}

# ---------------------------------------------------------------------------------------------------
# Firehose delivery role
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # Only Firehose streams of this account may assume the role (confused-deputy protection).
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.name_prefix}-firehose"
  description        = "Firehose delivery to OpenSearch with the transform Lambda and S3 backup"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "firehose_s3" {
  statement {
    sid = "BackupBucket"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [var.backup_bucket_arn, "${var.backup_bucket_arn}/*"]
  }
}

data "aws_iam_policy_document" "firehose_opensearch" {
  statement {
    sid = "DescribeAndIndex"
    actions = [
      "es:DescribeDomain",
      "es:DescribeDomains",
      "es:DescribeDomainConfig",
      "es:ESHttpPost",
      "es:ESHttpPut",
    ]
    resources = [var.opensearch.domain_arn, "${var.opensearch.domain_arn}/*"]
  }

  # The reads Firehose makes to check the cluster and the index before delivering (AWS documented set).
  statement {
    sid     = "ClusterAndIndexReads"
    actions = ["es:ESHttpGet"]
    resources = [
      "${var.opensearch.domain_arn}/_all/_settings",
      "${var.opensearch.domain_arn}/_cluster/stats",
      "${var.opensearch.domain_arn}/${var.opensearch.index_name_prefix}*/_mapping/*",
      "${var.opensearch.domain_arn}/_nodes",
      "${var.opensearch.domain_arn}/_nodes/stats",
      "${var.opensearch.domain_arn}/_nodes/*/stats",
      "${var.opensearch.domain_arn}/_stats",
      "${var.opensearch.domain_arn}/${var.opensearch.index_name_prefix}*/_stats",
      "${var.opensearch.domain_arn}/",
    ]
  }
}

data "aws_iam_policy_document" "firehose_lambda" {
  statement {
    sid       = "InvokeTransform"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [local.transform_function_arn, "${local.transform_function_arn}:*"]
  }
}

data "aws_iam_policy_document" "firehose_logs" {
  statement {
    sid       = "DeliveryErrorLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${local.firehose_log_group_arn}:log-stream:*"]
  }
}

data "aws_iam_policy_document" "firehose_vpc" {
  #checkov:skip=CKV_AWS_356:EC2 Describe* calls support no resource-level permissions; the statement on "*" holds only those read-only calls, the ENI calls are scoped to this account and Region.
  # These EC2 Describe* calls have no resource-level permissions, so they can only be granted on "*".
  statement {
    sid = "DescribeNetwork"
    actions = [
      "ec2:DescribeVpcs",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeNetworkInterfaces",
    ]
    resources = ["*"]
  }

  # DescribeVpcAttribute is defined on the vpc resource type: this account's VPCs in this Region.
  statement {
    sid       = "DescribeVpcAttribute"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/*"]
  }

  statement {
    sid = "ManageDeliveryInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:CreateNetworkInterfacePermission",
      "ec2:DeleteNetworkInterface",
    ]
    resources = [
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/*",
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/*",
    ]
  }
}

resource "aws_iam_role_policy" "firehose_s3" {
  name   = "s3-backup"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_s3.json
}

resource "aws_iam_role_policy" "firehose_opensearch" {
  name   = "opensearch-delivery"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_opensearch.json
}

resource "aws_iam_role_policy" "firehose_lambda" {
  name   = "transform-invoke"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_lambda.json
}

resource "aws_iam_role_policy" "firehose_logs" {
  name   = "cloudwatch-logs"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_logs.json
}

resource "aws_iam_role_policy" "firehose_vpc" {
  count = var.firehose.vpc_delivery ? 1 : 0

  name   = "vpc-delivery"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose_vpc.json
}

# ---------------------------------------------------------------------------------------------------
# Ingester instance role
# ---------------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ingester" {
  name               = "${var.name_prefix}-ingester"
  description        = "Instance role of the tweet ingester (Firehose put, its SSM parameters, its metrics, deletes in tweets-*)"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "ingester_firehose" {
  statement {
    sid       = "PutIntoOwnStream"
    actions   = ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"]
    resources = [local.delivery_stream_arn]
  }
}

# The token's SecureString is encrypted with its own customer-managed key (modules/ingester), whose key
# policy grants this role kms:Decrypt directly, only through SSM and only for this parameter: the role
# needs no KMS statement here, and no other SecureString of the account is readable with it.
data "aws_iam_policy_document" "ingester_parameters" {
  statement {
    sid       = "ReadOwnParameters"
    actions   = ["ssm:GetParameter"]
    resources = local.ingester_parameter_arns
  }
}

data "aws_iam_policy_document" "ingester_bundle" {
  statement {
    sid       = "DownloadBundle"
    actions   = ["s3:GetObject"]
    resources = [var.ingester.bundle_object_arn]
  }
}

data "aws_iam_policy_document" "ingester_metrics" {
  #checkov:skip=CKV_AWS_356:cloudwatch:PutMetricData has no resource-level permissions; the cloudwatch:namespace condition scopes it instead.
  # PutMetricData has no resource-level permissions ("*" is required); the namespace condition
  # limits the ingester to its own namespace.
  statement {
    sid       = "OwnMetricsNamespace"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.ingester.metrics_namespace]
    }
  }
}

# Session Manager (`make ssh` without SSH) and Run Command, as AWS documents a custom instance-profile
# policy for them, instead of the AWS-managed AmazonSSMManagedInstanceCore: that policy also grants
# ssm:GetParameter(s) on every parameter of the account, which with the account-wide aws/ssm key
# would let this role read every default-key SecureString. Left out on purpose: State Manager
# associations, inventory, patching and the S3/KMS session-log settings (this stack enables none).
data "aws_iam_policy_document" "ingester_session_manager" {
  # The SSM Agent reports itself (ping status, agent version). The action is defined on the instance
  # resource type: scoped to instances of this account and Region (the instance's ID is not known
  # before the role exists, and the instance needs the role to be created).
  statement {
    sid       = "AgentRegistration"
    actions   = ["ssm:UpdateInstanceInformation"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]
  }

  # Session Manager's control and data channels (ssmmessages, the Amazon Message Gateway Service).
  # These actions have no resource-level permissions: "*" is the only resource AWS accepts. SSM Agent
  # 3.3.40.0 and later also receives Run Command documents over this channel.
  statement {
    sid = "SessionChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  # Run Command delivery (ec2messages, the Amazon Message Delivery Service): kept because the upgrade
  # path runs commands on the box, and agents older than 3.3.40.0 (a pinned ingester_ami_id) or an
  # agent that cannot open the ssmmessages channel receive commands only through it. These actions
  # have no resource-level permissions: "*" is the only resource AWS accepts.
  statement {
    sid = "RunCommandMessages"
    actions = [
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ]
    resources = ["*"]
  }
}

# The ingester's deleter removes deleted posts: POST <domain>/tweets-*/_delete_by_query and no other path or
# verb. Fine-grained access control then maps this role to the tweets_deleter security role, which allows only
# the delete-by-query actions on tweets-* (scripts/ops/opensearch/data/roles.json): two locks, both on deleting.
data "aws_iam_policy_document" "ingester_opensearch_delete" {
  statement {
    sid       = "DeleteByQueryOnTweets"
    actions   = ["es:ESHttpPost"]
    resources = ["${var.opensearch.domain_arn}/${var.opensearch.index_name_prefix}-*/_delete_by_query"]
  }
}

# The deleter publishes its tombstones (ids only) where `make redrive` reads them, so a redrive never puts a
# deleted post back: writes only under tombstones/ of the backup bucket.
data "aws_iam_policy_document" "ingester_tombstones" {
  statement {
    sid       = "PublishTombstones"
    actions   = ["s3:PutObject"]
    resources = ["${var.backup_bucket_arn}/tombstones/*"]
  }
}

resource "aws_iam_role_policy" "ingester_tombstones" {
  name   = "tombstones-publish"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_tombstones.json
}

resource "aws_iam_role_policy" "ingester_opensearch_delete" {
  name   = "opensearch-delete"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_opensearch_delete.json
}

resource "aws_iam_role_policy" "ingester_firehose" {
  name   = "firehose-put"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_firehose.json
}

resource "aws_iam_role_policy" "ingester_parameters" {
  name   = "ssm-parameters"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_parameters.json
}

resource "aws_iam_role_policy" "ingester_bundle" {
  name   = "bundle-download"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_bundle.json
}

resource "aws_iam_role_policy" "ingester_metrics" {
  name   = "cloudwatch-metrics"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_metrics.json
}

resource "aws_iam_role_policy" "ingester_session_manager" {
  name   = "session-manager"
  role   = aws_iam_role.ingester.id
  policy = data.aws_iam_policy_document.ingester_session_manager.json
}

resource "aws_iam_instance_profile" "ingester" {
  name = "${var.name_prefix}-ingester"
  role = aws_iam_role.ingester.name

  tags = var.tags
}
