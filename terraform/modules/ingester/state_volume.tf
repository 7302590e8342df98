# The service's state directory (/var/lib/tweet-ingester: write-ahead log, disk spool, dead letters, status) on
# its own EBS volume, so that a replaced instance (a new AMI, `terraform apply -replace`) keeps the backlog:
# the new instance's user data finds the volume by its ID and mounts it where the state belongs, and the
# service adopts the WAL and drains the spool as after any restart.
#
# Order on a replacement: Terraform destroys the attachment first; stop_instance_before_detaching stops the
# old instance, a clean shutdown in which systemd stops the service (SIGTERM: it flushes, what Firehose does
# not take goes to the spool on this volume), then detaches the volume, replaces the instance and attaches
# the volume to the new one.

resource "aws_ebs_volume" "state" {
  #checkov:skip=CKV_AWS_189:Encrypted with the account's aws/ebs key, like the root volume it takes the spool from; it holds public posts in transit, and a customer-managed key would add a key policy to keep in step with the instance role for no reader it keeps out.
  count = var.state_volume_size > 0 ? 1 : 0

  availability_zone = data.aws_subnet.this.availability_zone
  size              = var.state_volume_size
  type              = "gp3"
  encrypted         = true

  tags = merge(var.tags, { Name = "${var.name}-state" })
}

resource "aws_volume_attachment" "state" {
  count = var.state_volume_size > 0 ? 1 : 0

  # On Nitro instances (every type this module accepts) the volume appears as an NVMe device whatever this
  # name; the user data finds it by its serial, the volume ID, under /dev/disk/by-id.
  device_name                    = local.state_device_name
  volume_id                      = aws_ebs_volume.state[0].id
  instance_id                    = aws_instance.this.id
  stop_instance_before_detaching = true
}
