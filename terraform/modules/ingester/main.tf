# The ingester box: Amazon Linux 2023 running the tweet-ingester systemd service from the bundle that
# `make build` writes. The X bearer token lives in SSM Parameter Store, never in tfvars or state.

data "aws_region" "current" {}

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
  ami_id        = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.ami[0].insecure_value
  bundle_sha256 = filesha256(var.bundle_path)

  env = {
    INGESTER_SOURCE              = "x"
    DELIVERY_STREAM_NAME         = var.delivery_stream_name
    AWS_REGION                   = data.aws_region.current.name
    TRACKED_TERMS                = join(",", [for t in var.tracked_terms : trimspace(t)])
    X_BEARER_TOKEN_SSM_PARAMETER = aws_ssm_parameter.x_bearer_token.name
    MAX_POSTS_PER_DAY            = tostring(var.max_posts_per_day)
    CLOUDWATCH_METRICS           = var.cloudwatch_metrics ? "true" : "false"
    METRICS_NAMESPACE            = var.metrics_namespace
    LOG_LEVEL                    = var.log_level
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    env           = local.env
    region        = data.aws_region.current.name
    bucket        = aws_s3_object.bundle.bucket
    key           = aws_s3_object.bundle.key
    bundle_sha256 = local.bundle_sha256
  })
}

# ---------------------------------------------------------------------------------------------------
# X bearer token: created with a placeholder, then owned by the operator
# ---------------------------------------------------------------------------------------------------

resource "aws_ssm_parameter" "x_bearer_token" {
  #checkov:skip=CKV_AWS_337:The SecureString uses the account's aws/ssm key; a customer-managed key adds cost and key-policy management without a reader outside this account.
  name        = var.x_bearer_token_parameter_name
  description = "X API v2 bearer token of the tweet ingester. Set it with: aws ssm put-parameter --overwrite --type SecureString --name ${var.x_bearer_token_parameter_name} --value ..."
  type        = "SecureString"

  # Write-only (Terraform >= 1.11): the placeholder is sent once and never stored in state. With a plain
  # `value`, every refresh would read the parameter back with decryption and put the operator's real
  # token into the state file; with value_wo the provider stores no value at all.
  value_wo         = "PLACEHOLDER-set-with-aws-ssm-put-parameter-overwrite"
  value_wo_version = 1

  tags = var.tags
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
      description      = "SSH from the operators' allow-list"
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

  user_data                   = local.user_data
  user_data_replace_on_change = true

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
  }

  tags        = merge(var.tags, { Name = var.name })
  volume_tags = merge(var.tags, { Name = var.name })

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
    ignore_changes = [ami]
  }
}
