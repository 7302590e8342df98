# In-place upgrade (`make upgrade-ingester`, scripts/ops/upgrade_ingester.py): the operator uploads a new bundle
# to the bundle's key and runs this document on the instance with Run Command. The document's script is
# the user data's (user_data.sh.tftpl): it rewrites the env file from the current settings, downloads the
# bundle, checks it against the one parameter, BundleSha256, and runs its install.sh, which stops the service
# (SIGTERM: it flushes, its write-ahead log and spool stay on disk), installs and starts it again. The instance
# and its disk are kept. A document with one validated parameter, instead of AWS-RunShellScript, means that
# whoever may run it on this instance can run this upgrade and nothing else.

resource "aws_ssm_document" "upgrade" {
  name            = "${var.name}-upgrade"
  document_type   = "Command"
  document_format = "JSON"
  target_type     = "/AWS::EC2::Instance"

  content = jsonencode({
    schemaVersion = "2.2"
    description   = "Install an ingester bundle on ${var.name} in place (download, check SHA-256, install.sh, restart)"
    parameters = {
      BundleSha256 = {
        type           = "String"
        description    = "SHA-256 (64 lowercase hex digits) of the bundle at s3://${var.artifacts_bucket_name}/${var.bundle_key}"
        allowedPattern = "^[0-9a-f]{64}$"
      }
    }
    mainSteps = [{
      action = "aws:runShellScript"
      name   = "installBundle"
      inputs = {
        # Download, install (pip from local wheels) and restart with its SIGTERM flush take about a minute;
        # ten leave room for a slow dnf install of python3.11 (AWS allows 1-172800 s).
        timeoutSeconds = "600"
        runCommand     = split("\n", trimspace(local.upgrade_script))
      }
    }]
  })

  tags = var.tags

  lifecycle {
    # AWS reserves these document name prefixes (CreateDocument refuses them at apply time).
    precondition {
      condition     = !can(regex("^(?i)(aws|amazon|amzn)", var.name))
      error_message = "name must not start with aws, amazon or amzn: SSM reserves those prefixes for its own documents, and the upgrade document is named <name>-upgrade."
    }
  }
}

# What an operator (or a CI role) needs for `make upgrade-ingester` and nothing more: put the bundle at its key,
# run the upgrade document on this instance, read that command's result. Attach it to the operator's role.
data "aws_iam_policy_document" "upgrade_operator" {
  statement {
    sid       = "UploadBundle"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${aws_s3_object.bundle.bucket}/${aws_s3_object.bundle.key}"]
  }

  # SendCommand is authorised on both the document and the target: only this document, only this instance.
  statement {
    sid       = "RunUpgradeDocument"
    actions   = ["ssm:SendCommand"]
    resources = [aws_ssm_document.upgrade.arn, aws_instance.this.arn]
  }

  # GetCommandInvocation has no resource-level permissions (the Service Authorization Reference lists no
  # resource type for it): "*" is the only resource AWS accepts. It only reads command results.
  statement {
    sid       = "ReadCommandResult"
    actions   = ["ssm:GetCommandInvocation"]
    resources = ["*"]
  }
}
