# The role OpenSearch Service assumes to publish the negative-sentiment alert (the Alerting monitor and its SNS
# notification channel, created inside OpenSearch by `make opensearch-setup`) to this module's topic. The alert
# reuses the alarm topic: whoever is subscribed to the pipeline's alarms hears about a sentiment spike too, and
# there is one topic, one key and one subscription list to manage.

locals {
  domain_arn = "arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${var.opensearch.domain_name}"
}

# Trust: the OpenSearch Service principal (es.amazonaws.com, as AWS documents for SNS alerting destinations), and
# only on behalf of this account's domain of this name (the confused-deputy conditions AWS documents for it).
data "aws_iam_policy_document" "sentiment_alert_assume" {
  statement {
    sid     = "OpenSearchPublishesAlerts"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.domain_arn]
    }
  }
}

resource "aws_iam_role" "sentiment_alert" {
  name               = "${var.name_prefix}-opensearch-alerts"
  description        = "Assumed by OpenSearch domain ${var.opensearch.domain_name} to publish the negative-sentiment alert to ${local.topic_name}"
  assume_role_policy = data.aws_iam_policy_document.sentiment_alert_assume.json

  tags = var.tags
}

# Publish to the one topic, and use its key for that (SNS encrypts each message with a data key from the topic's
# CMK on the publisher's behalf: kms:GenerateDataKey and kms:Decrypt, as AWS documents for publishers to encrypted
# topics). The key policy delegates to IAM, so this grant is enough; the topic policy need not name the role
# (same account).
data "aws_iam_policy_document" "sentiment_alert_publish" {
  statement {
    sid       = "PublishToTheAlarmTopic"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
  }

  statement {
    sid       = "EncryptWithTheTopicKey"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = [aws_kms_key.topic.arn]
  }
}

resource "aws_iam_role_policy" "sentiment_alert" {
  name   = "sns-publish"
  role   = aws_iam_role.sentiment_alert.id
  policy = data.aws_iam_policy_document.sentiment_alert_publish.json
}
