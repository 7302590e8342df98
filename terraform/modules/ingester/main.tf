# The ingester box: Amazon Linux 2023 running the tweet-ingester systemd service from the bundle that
# `make build` writes. The X bearer token lives in SSM Parameter Store, never in tfvars or state.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# The provider's Region: aws_service.region reads it on hashicorp/aws 5.100 and 6.x alike (aws_region.name is
# deprecated in 6.x, its successor aws_region.region absent from 5.x: docs/design.md, "Provider versions").
data "aws_service" "current" { service_id = "ec2" }

data "aws_subnet" "this" {
  id = var.subnet_id
}

# AWS publishes the latest Amazon Linux 2023 AMI of each architecture under these public parameters.
data "aws_ssm_parameter" "ami" {
  count = var.ami_id == null ? 1 : 0

  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

# What EC2 says the chosen type and image run: an x86 type with the arm64 AMI would apply cleanly and then
# never boot, so both are checked at plan time against `architecture`.
data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

data "aws_ami" "this" {
  owners = ["self", "amazon", "aws-marketplace"]

  filter {
    name   = "image-id"
    values = [local.ami_id]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_service.current.region

  token_parameter_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.x_bearer_token_parameter_name}"
  token_key_alias     = "alias/${var.name}-x-bearer-token"

  ami_id        = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.ami[0].insecure_value
  bundle_sha256 = filesha256(var.bundle_path)

  # The settings every source shares; the X ones only where X is read. `both`: tweet-ingester reads X and a second
  # service, tweet-ingester-bluesky, reads Bluesky with its own env file and a STATE_DIR of its own (a folder of the
  # first one's state directory, so on the state volume too): each has its own WAL, spool, cursor and lock.
  common_env = {
    DELIVERY_STREAM_NAME = var.delivery_stream_name
    AWS_REGION           = data.aws_service.current.region
    TRACKED_TERMS        = join(",", [for t in var.tracked_terms : trimspace(t)])
    CLOUDWATCH_METRICS   = var.cloudwatch_metrics ? "true" : "false"
    METRICS_NAMESPACE    = var.metrics_namespace
    LOG_LEVEL            = var.log_level
    OPENSEARCH_ENDPOINT  = "https://${var.opensearch_endpoint}"
    RETENTION_DAYS       = tostring(var.retention_days)
    TOMBSTONE_DAYS       = tostring(var.tombstone_days)
  }
  x_env = {
    INGESTER_SOURCE              = "x"
    X_BEARER_TOKEN_SSM_PARAMETER = var.x_bearer_token_parameter_name
    MAX_POSTS_PER_DAY            = tostring(var.max_posts_per_day)
  }
  # The spool cap defaults to 90 % of a volume of its own, 50 % of a shared filesystem (ingester/storage/files.py).
  # `both`: two services on one state volume, the Bluesky one in a sub-folder, so 90 % + 50 % = 140 % of the
  # volume; each gets an explicit share instead, adding up to the 90 % one service would have.
  spool_share = var.ingester_source == "both" ? { SPOOL_SHARE = "0.45" } : {}
  # Each service publishes its own tombstones (make redrive reads every object under the prefix).
  tombstones_env         = var.tombstones_s3_prefix == null ? {} : { TOMBSTONES_S3_URI = "${var.tombstones_s3_prefix}tweet-ingester.jsonl" }
  bluesky_tombstones_env = var.tombstones_s3_prefix == null ? {} : { TOMBSTONES_S3_URI = "${var.tombstones_s3_prefix}tweet-ingester-bluesky.jsonl" }
  env                    = merge(local.common_env, local.spool_share, local.tombstones_env, var.ingester_source == "bluesky" ? { INGESTER_SOURCE = "bluesky" } : local.x_env)
  bluesky_env            = var.ingester_source == "both" ? merge(local.common_env, local.spool_share, local.bluesky_tombstones_env, { INGESTER_SOURCE = "bluesky", STATE_DIR = "/var/lib/tweet-ingester/bluesky" }) : {}

  state_device_name = "/dev/sdf"
  # What the install script needs to mount the state volume (user_data.sh.tftpl); empty ID: no separate volume.
  state_volume = {
    state_volume_id   = var.state_volume_size > 0 ? aws_ebs_volume.state[0].id : ""
    state_device_name = local.state_device_name
  }

  # One script (user_data.sh.tftpl) writes the env file and installs a bundle: on first boot with the SHA-256
  # of the bundle Terraform uploaded, and in the upgrade document with the SHA-256 its caller passes.
  install_vars = merge(local.state_volume, {
    env         = local.env
    bluesky_env = local.bluesky_env
    region      = local.region
    bucket      = aws_s3_object.bundle.bucket
    key         = aws_s3_object.bundle.key
  })
  user_data      = templatefile("${path.module}/user_data.sh.tftpl", merge(local.install_vars, { bundle_sha256 = local.bundle_sha256 }))
  upgrade_script = templatefile("${path.module}/user_data.sh.tftpl", merge(local.install_vars, { bundle_sha256 = "{{ BundleSha256 }}" }))
}

# ---------------------------------------------------------------------------------------------------
# X bearer token: a customer-managed key only the ingester may decrypt with
# ---------------------------------------------------------------------------------------------------
#
# Terraform creates the key, never the parameter: the provider reads an aws_ssm_parameter back with
# GetParameter WithDecryption=true on every refresh, so managing it here would need kms:Decrypt for
# whoever runs Terraform, and "only the ingester decrypts" would not hold. The operator puts the token
# with `make x-token` (scripts/ops/x_token.py: SecureString, this key, --overwrite) and deletes it with
# `make x-token ARGS=--delete`.

data "aws_iam_policy_document" "token_key" {
  #checkov:skip=CKV_AWS_109:In a key policy "*" is this key; the administration statement (no decrypt, no grants) goes to the account so IAM policies decide which deployers administer it.
  #checkov:skip=CKV_AWS_111:In a key policy "*" is this key; writes are limited to administering it and to encrypting through SSM for the one parameter.
  #checkov:skip=CKV_AWS_356:In a key policy the only resource is the key itself, written "*".
  # In a key policy the only resource is the key the policy is attached to, written "*".

  # The account (and, through their IAM policies, its deployers) administers the key: everything but
  # using it to decrypt. kms:CreateGrant is left out as well, since a grant could hand out kms:Decrypt.
  statement {
    sid = "AccountAdministersTheKey"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # `make x-token` puts the token: SSM encrypts it with this key (kms:Encrypt for a standard parameter,
  # kms:GenerateDataKey for an advanced one), only on behalf of SSM and only for the token parameter.
  statement {
    sid       = "AccountEncryptsTheTokenThroughSsm"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [local.token_parameter_arn]
    }
  }

  # The only decrypt grant of the key: the ingester's instance role, through SSM, for the token parameter.
  statement {
    sid       = "IngesterDecryptsTheTokenThroughSsm"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [var.instance_role_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [local.token_parameter_arn]
    }
  }
}

resource "aws_kms_key" "token" {
  description             = "Encrypts the X bearer token SecureString ${var.x_bearer_token_parameter_name}; only the ingester role may decrypt"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.token_key_deletion_days
  policy                  = data.aws_iam_policy_document.token_key.json

  tags = var.tags
}

resource "aws_kms_alias" "token" {
  name          = local.token_key_alias
  target_key_id = aws_kms_key.token.key_id
}

# Earlier versions created the parameter here with a placeholder. Forget it without deleting it, so an
# upgrade keeps the operator's token; `make x-token` then re-encrypts it with the key above.
removed {
  from = aws_ssm_parameter.x_bearer_token

  lifecycle {
    destroy = false
  }
}

# ---------------------------------------------------------------------------------------------------
# Bundle
# ---------------------------------------------------------------------------------------------------

resource "aws_s3_object" "bundle" {
  bucket       = var.artifacts_bucket_name
  key          = var.bundle_key
  source       = var.bundle_path
  source_hash  = filemd5(var.bundle_path)
  content_type = "application/gzip"

  tags = var.tags
}

# ---------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = "tweet ingester: SSH from the allow-list only; HTTPS out to the X API and AWS APIs"
  vpc_id      = data.aws_subnet.this.vpc_id

  dynamic "ingress" {
    for_each = length(var.ssh_allowed_cidrs) > 0 ? [var.ssh_allowed_cidrs] : []

    content {
      description      = "SSH from the operators allow-list"
      from_port        = 22
      to_port          = 22
      protocol         = "tcp"
      cidr_blocks      = [for c in ingress.value : c if !strcontains(c, ":")]
      ipv6_cidr_blocks = [for c in ingress.value : c if strcontains(c, ":")]
    }
  }

  egress {
    description = "HTTPS to the X API, Firehose, SSM, S3, CloudWatch and the OS package repositories"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------------
# Instance
# ---------------------------------------------------------------------------------------------------

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_88:The ingester needs outbound internet to the X API; in a default-VPC public subnet that takes a public IP (associate_public_ip_address=false with a NAT subnet avoids it). Ingress stays closed except SSH from ssh_allowed_cidrs.
  #checkov:skip=CKV_AWS_126:Detailed monitoring is a variable (root: ingester_detailed_monitoring, default off, billed per metric); the ingester publishes its own pipeline metrics and 5-minute EC2 metrics suffice for the host.
  ami                         = local.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = var.instance_profile_name
  key_name                    = var.key_name
  associate_public_ip_address = var.associate_public_ip_address
  monitoring                  = var.detailed_monitoring
  ebs_optimized               = true

  # A new bundle changes the user data; Terraform ignores that (lifecycle below) instead of replacing the
  # instance and its disk spool: `make upgrade-ingester` installs the bundle in place through Run Command.
  # A replacement (-replace, a new AMI) renders the user data afresh, so the new box gets the current bundle.
  user_data                   = local.user_data
  user_data_replace_on_change = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true

    # The root volume's own tags, not the instance's volume_tags: volume_tags tags every volume attached to the
    # instance, the state volume included, whose aws_ebs_volume.tags then fight it on every plan (the provider's
    # aws_instance documentation: "resource cycling and inconsistent behavior").
    tags = merge(var.tags, { Name = var.name })
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = contains(data.aws_ec2_instance_type.this.supported_architectures, var.architecture)
      error_message = "instance_type ${var.instance_type} runs ${join("/", data.aws_ec2_instance_type.this.supported_architectures)}, not ${var.architecture}: choose a type for ${var.architecture} (arm64: t4g.small; x86_64: t3.small) or change the architecture setting."
    }

    precondition {
      condition     = data.aws_ami.this.architecture == var.architecture
      error_message = "AMI ${local.ami_id} is ${data.aws_ami.this.architecture}, not ${var.architecture}: choose an AMI for ${var.architecture} or leave ami_id unset."
    }

    # A newer AMI in the SSM parameter must not replace a running ingester on the next apply;
    # `terraform apply -replace=module.ingester.aws_instance.this` moves it to the latest AMI.
    # Likewise a new bundle or env setting (user_data): applied in place by `make upgrade-ingester`, not by
    # replacing the box (the provider would otherwise stop and start it to change the attribute).
    ignore_changes = [ami, user_data]
  }
}
