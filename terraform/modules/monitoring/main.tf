# Alarms as code: one SNS topic that every alarm notifies (in ALARM and back to OK), the alarms (alarms.tf)
# and a pipeline-health dashboard (dashboard.tf).

# ---------------------------------------------------------------------------------------------------
# Topic key
# ---------------------------------------------------------------------------------------------------

# A customer-managed key, not the AWS-managed alias/aws/sns: CloudWatch alarms publish to an encrypted topic
# only when the key policy lets cloudwatch.amazonaws.com use the key, and an AWS-managed key's policy cannot
# be changed (the alarm history then says "CloudWatch Alarms does not have authorization to access the SNS
# topic encryption key"; https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns). It costs
# USD 1 a month (docs/costs.md).
data "aws_iam_policy_document" "topic_key" {
  #checkov:skip=CKV_AWS_109:In a key policy "*" is this key; the account administers it so that IAM policies decide who may.
  #checkov:skip=CKV_AWS_111:In a key policy "*" is this key; writes go to the account (IAM decides) and to CloudWatch alarms.
  #checkov:skip=CKV_AWS_356:In a key policy the only resource is the key itself, written "*".
  # In a key policy the only resource is the key the policy is attached to, written "*".

  # The key policy AWS gives a new key: the account's IAM policies decide who administers and uses it. The
  # topic carries alarm notifications, not secrets, so reading it is no more guarded than the topic is.
  statement {
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    sid       = "AccountUsesAndAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
  }

  # CloudWatch alarms publishing to the encrypted topic (the statement AWS documents for it).
  statement {
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
  }
}

resource "aws_kms_key" "topic" {
  description             = "Encrypts the ${var.name_prefix} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30 # the longest wait: the most time to cancel a deletion by mistake
  policy                  = data.aws_iam_policy_document.topic_key.json

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------------
# Topic and subscriptions
# ---------------------------------------------------------------------------------------------------

locals {
  topic_name = "${var.name_prefix}-alarms"
}

# The topic policy: CloudWatch may publish for this module's alarms only (aws:SourceArn, as AWS documents for
# alarm notifications). It replaces SNS's default policy (version 2008-10-17, any principal of the account);
# this account's principals still subscribe and publish through their IAM policies.
data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"]
    }
  }
}

resource "aws_sns_topic" "this" {
  name              = local.topic_name
  kms_master_key_id = aws_kms_key.topic.arn
  policy            = data.aws_iam_policy_document.topic.json

  tags = var.tags
}

# Each address receives a confirmation email; until it is confirmed, the subscription stays pending.
resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_kms_alias" "topic" {
  name          = "alias/${var.name_prefix}-alarms"
  target_key_id = aws_kms_key.topic.key_id
}
