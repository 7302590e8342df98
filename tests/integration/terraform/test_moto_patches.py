"""The moto gaps tests/support/moto_server.py closes, checked through the server over HTTP with boto3."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.moto_server

ROLE = "arn:aws:iam::123456789012:role/firehose"
DESTINATION = {
    "RoleARN": ROLE,
    "DomainARN": "arn:aws:es:us-east-1:123456789012:domain/tweets",
    "IndexName": "tweets",
    "IndexRotationPeriod": "OneDay",
    "S3BackupMode": "FailedDocumentsOnly",
    "S3Configuration": {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::backup", "CompressionFormat": "GZIP"},
}


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def test_firehose_opensearch_destination_round_trips(moto_endpoint: str) -> None:
    firehose = client("firehose", moto_endpoint)
    firehose.create_delivery_stream(
        DeliveryStreamName="tweets",
        AmazonopensearchserviceDestinationConfiguration=DESTINATION,
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"},
    )
    desc = firehose.describe_delivery_stream(DeliveryStreamName="tweets")["DeliveryStreamDescription"]
    assert desc["DeliveryStreamEncryptionConfiguration"] == {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"}
    (destination,) = desc["Destinations"]
    opensearch = destination["AmazonopensearchserviceDestinationDescription"]
    assert opensearch["IndexName"] == "tweets"
    assert opensearch["S3DestinationDescription"]["CompressionFormat"] == "GZIP"
    assert "ElasticsearchDestinationDescription" not in destination

    firehose.update_destination(
        DeliveryStreamName="tweets",
        CurrentDeliveryStreamVersionId=desc["VersionId"],
        DestinationId=destination["DestinationId"],
        AmazonopensearchserviceDestinationUpdate={"IndexName": "tweets2", "S3Update": {"CompressionFormat": "ZIP"}},
    )
    after = firehose.describe_delivery_stream(DeliveryStreamName="tweets")["DeliveryStreamDescription"]
    updated = after["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    assert after["VersionId"] == str(int(desc["VersionId"]) + 1)
    assert updated["IndexName"] == "tweets2"
    assert updated["S3DestinationDescription"]["CompressionFormat"] == "ZIP"
    assert updated["S3DestinationDescription"]["BucketARN"] == "arn:aws:s3:::backup"

    with pytest.raises(ClientError, match="ConcurrentModification"):
        firehose.update_destination(
            DeliveryStreamName="tweets",
            CurrentDeliveryStreamVersionId=desc["VersionId"],
            DestinationId=destination["DestinationId"],
            AmazonopensearchserviceDestinationUpdate={"IndexName": "stale"},
        )


def test_firehose_refuses_two_destinations(moto_endpoint: str) -> None:
    firehose = client("firehose", moto_endpoint)
    with pytest.raises(ClientError, match="Exactly one destination"):
        firehose.create_delivery_stream(
            DeliveryStreamName="two",
            AmazonopensearchserviceDestinationConfiguration=DESTINATION,
            ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::backup"},
        )


def test_conditional_deny_does_not_apply_without_its_key_but_a_plain_deny_does(moto_endpoint: str) -> None:
    s3 = client("s3", moto_endpoint)
    s3.create_bucket(Bucket="tls-only")
    s3.put_object(Bucket="tls-only", Key="kept", Body=b"x")
    s3.put_object(Bucket="tls-only", Key="denied/x", Body=b"x")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyPrefix",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::tls-only/denied/*",
            },
        ],
    }
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps(policy))
    assert s3.get_object(Bucket="tls-only", Key="kept")["Body"].read() == b"x"
    assert s3.head_object(Bucket="tls-only", Key="kept")["ContentLength"] == 1
    with pytest.raises(ClientError, match=r"403|AccessDenied|Forbidden"):
        s3.get_object(Bucket="tls-only", Key="denied/x")


def test_instance_launched_through_a_network_interface_reports_its_groups(moto_endpoint: str) -> None:
    ec2 = client("ec2", moto_endpoint)
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]
    group = ec2.create_security_group(GroupName="ingester", Description="test", VpcId=subnet["VpcId"])["GroupId"]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": subnet["SubnetId"], "Groups": [group], "AssociatePublicIpAddress": True}
        ],
    )["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [group]


def test_aws_managed_policies_are_loaded(moto_endpoint: str) -> None:
    iam = client("iam", moto_endpoint)
    policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")["Policy"]
    assert policy["PolicyName"] == "AmazonSSMManagedInstanceCore"
