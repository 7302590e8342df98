# The role OpenSearch Service assumes to publish the negative-sentiment alert (the Alerting monitor and its SNS
# notification channel, created inside OpenSearch by `make opensearch-setup`) to this module's topic. The alert
# reuses the alarm topic: whoever is subscribed to the pipeline's alarms hears about a sentiment spike too, and
# there is one topic, one key and one subscription list to manage.

# Trust: the OpenSearch Service principal, only on behalf of this account's domain (the opensearch module's
# service_assume_role_policy_json, shared with its Cognito role).
resource "aws_iam_role" "sentiment_alert" {
  name               = "${var.name_prefix}-opensearch-alerts"
  description        = "Assumed by OpenSearch domain ${var.opensearch.domain_name} to publish the negative-sentiment alert to ${local.topic_name}"
  assume_role_policy = var.opensearch.service_assume_role_policy

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
