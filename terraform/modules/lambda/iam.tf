# The function's execution role lives with the function (as terraform-aws-lambda does): the role grants exactly what
# the function's own settings make it call, computed here from those settings, so no other module has to know them.

locals {
  # The Comprehend actions the function calls: BatchDetectSentiment with the comprehend backend
  # (lambda_src/transform/sentiment/comprehend.py) or the comprehend fallback (SENTIMENT_FALLBACK), one action per
  # optional enrichment (lambda_src/transform/enrichments.py).
  enrichment_actions = {
    entities    = "comprehend:BatchDetectEntities"
    key_phrases = "comprehend:BatchDetectKeyPhrases"
  }
  comprehend_actions = sort(distinct(concat(
    var.sentiment.backend == "comprehend" || var.sentiment.fallback == "comprehend" ? ["comprehend:BatchDetectSentiment"] : [],
    [for e in var.sentiment.comprehend_enrichments : local.enrichment_actions[e]],
  )))
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = var.function.name
  description        = "Execution role of the tweet sentiment transform Lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "comprehend" {
  count = length(local.comprehend_actions) > 0 ? 1 : 0
  #checkov:skip=CKV_AWS_356:Comprehend's real-time detect calls support no resource-level permissions; "*" is the only resource AWS accepts for them.
  # Amazon Comprehend's synchronous detect APIs have no resource-level permissions: the only resource AWS accepts for
  # them is "*". The actions are exactly the calls the function's settings make (local.comprehend_actions; the
  # comprehend backend batches every text, it never calls DetectSentiment). With the embedded or vader backend, no
  # comprehend fallback and no enrichment there is none, and no policy.
  statement {
    sid       = "ComprehendBatchDetect"
    actions   = local.comprehend_actions
    resources = ["*"]
  }
}

# The function's metrics are CloudWatch embedded-metric-format lines in its own log group (see
# lambda_src/transform/observability.py): CloudWatch extracts them from the logs, so the function needs
# no cloudwatch:PutMetricData.
data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "comprehend" {
  count = length(local.comprehend_actions) > 0 ? 1 : 0

  name   = "comprehend-sentiment"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.comprehend[0].json
}

resource "aws_iam_role_policy" "logs" {
  name   = "cloudwatch-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.logs.json
}
