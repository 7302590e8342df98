"""Launcher for moto in server mode: a real HTTP emulator of the AWS APIs for boto3 and Terraform.

Run as ``python -m tests.support.moto_server --port N``. It runs in its own process (never inside
pytest's) so that in-process ``mock_aws`` unit tests cannot reset its state. Gaps in moto that our
tests need closed are patched here, in the harness, never in production code (docs/design.md §7).
The patches rely on moto's internals, so moto is pinned in pyproject.toml.
"""

from __future__ import annotations

import argparse
import logging
import os

MOTO_VERSION = "5.2.5"  # the internals patched below are those of this release (pinned in pyproject.toml)
OPENSEARCH = "Amazonopensearchservice"  # moto's destination key, as in "<key>DestinationDescription"


def apply_patches() -> None:
    """Close the moto gaps our tests rely on. Each patch says which gap it closes."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"tests/support/moto_server.py patches moto {MOTO_VERSION}, found {moto.__version__}")
    _patch_firehose_opensearch_destination()
    _patch_policy_conditions()
    _patch_instance_security_groups()
    _patch_identity_pool_roles()


def _patch_instance_security_groups() -> None:
    """An instance launched with a network-interface spec reports that interface's security groups.

    Gap: with ``associate_public_ip_address`` the provider launches through ``NetworkInterfaces[0].Groups``;
    moto 5.2.5 puts the groups on the ENI but leaves the instance's ``SecurityGroups`` empty, so the
    provider reads ``vpc_security_group_ids = []`` and every later plan wants to add the group back. In
    AWS an instance's security groups are those of its primary network interface.
    """
    from typing import Any

    from moto.ec2.models.instances import Instance

    original = Instance.prep_nics

    def prep_nics(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        primary = self.nics.get(0)
        if not self.security_groups and primary is not None:
            self.security_groups = list(primary._group_set)

    Instance.prep_nics = prep_nics  # type: ignore[method-assign]


def _patch_identity_pool_roles() -> None:
    """Cognito identity pools keep the roles set on them: SetIdentityPoolRoles and GetIdentityPoolRoles.

    Gap: moto 5.2.5's cognito-identity has neither action, so ``aws_cognito_identity_pool_roles_attachment``
    (the authenticated role of the Dashboards users) cannot be created or read. As in AWS, the roles
    (and role mappings) are stored per pool and returned as set; an unknown pool is ResourceNotFoundException.
    They live on the account's backend, so /moto-api/reset clears them with the pools.
    """
    import json
    from typing import Any

    from moto.cognitoidentity.exceptions import ResourceNotFoundError
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    def _roles(backend: Any) -> dict[str, dict[str, Any]]:
        """Pool ID -> {"Roles": ..., "RoleMappings": ...}, kept on the (per account and Region) backend."""
        if not hasattr(backend, "identity_pool_roles"):
            backend.identity_pool_roles = {}
        roles: dict[str, dict[str, Any]] = backend.identity_pool_roles
        return roles

    def _pool_id(self: Any) -> str:
        pool_id = str(self._get_param("IdentityPoolId"))
        if pool_id not in self.backend.identity_pools:
            raise ResourceNotFoundError(pool_id)
        return pool_id

    def set_identity_pool_roles(self: Any) -> str:
        pool_id = _pool_id(self)
        entry = {"Roles": self._get_param("Roles") or {}}
        if self._get_param("RoleMappings"):
            entry["RoleMappings"] = self._get_param("RoleMappings")
        _roles(self.backend)[pool_id] = entry
        return ""

    def get_identity_pool_roles(self: Any) -> str:
        pool_id = _pool_id(self)
        return json.dumps({"IdentityPoolId": pool_id, **_roles(self.backend).get(pool_id, {"Roles": {}})})

    CognitoIdentityResponse.set_identity_pool_roles = set_identity_pool_roles  # type: ignore[attr-defined]
    CognitoIdentityResponse.get_identity_pool_roles = get_identity_pool_roles  # type: ignore[attr-defined]


def _patch_policy_conditions() -> None:
    """A policy statement applies only when its conditions hold, as in AWS.

    Gap: moto 5.2.5 treats a condition whose key the request does not carry as satisfied, and it supplies
    no condition keys (aws:SecureTransport, s3:TlsVersion) for S3 object requests. So the backup bucket's
    TLS-only policy ("Deny s3:* when aws:SecureTransport is false") denied every GetObject and HeadObject,
    and the second plan could not refresh the bundle's aws_s3_object (403). AWS evaluates a condition on
    a missing key as false (except the ...IfExists and Null operators), so the statement does not apply;
    moto also returns DENIED, rather than not applicable, for an Allow statement whose condition fails.
    With the patch both cases are NEUTRAL. The test checks the bucket policy's content with boto3.
    """
    from typing import Any

    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> PermissionResult:
        conditions = self._statement.get("Condition") or {}
        present = incoming_condition_values or {}
        for operator, keys in conditions.items():
            if operator == "Null" or operator.endswith("IfExists"):
                continue
            if any(key not in present for key in keys):
                return PermissionResult.NEUTRAL
        if conditions and not self._check_conditions(incoming_condition_values):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]


def configure_environment() -> None:
    """Settings moto reads from the environment at import time; call before importing moto.

    MOTO_IAM_LOAD_MANAGED_POLICIES: moto knows no AWS-managed IAM policy unless asked, so attaching
    arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore (the ingester's Session Manager access) fails.
    """
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def _patch_firehose_opensearch_destination() -> None:
    """Teach moto's Firehose the Amazon OpenSearch Service destination and stream encryption status.

    Gap 1: moto 5.2.5 knows the older Elasticsearch destination only, so CreateDeliveryStream with an
    ``AmazonopensearchserviceDestinationConfiguration`` fails ("Exactly one destination configuration")
    and UpdateDestination ignores ``AmazonopensearchserviceDestinationUpdate``. The configuration has
    the same shape as the Elasticsearch one, so creation reuses moto's code and re-keys the destination;
    DescribeDeliveryStream then returns ``AmazonopensearchserviceDestinationDescription`` (with
    ``S3DestinationDescription``), serialised by moto from botocore's model like any other field.
    Gap 2: a stream created with server-side encryption reports no ``Status``; AWS reports ENABLED.
    """
    from typing import Any

    from moto.core.responses import ActionResult, EmptyResult
    from moto.core.utils import utcnow
    from moto.firehose import models, responses
    from moto.firehose.exceptions import (
        ConcurrentModificationException,
        InvalidArgumentException,
        ResourceNotFoundException,
    )

    backend_cls = models.FirehoseBackend
    original_create = backend_cls.create_delivery_stream

    def create_delivery_stream(
        self: Any, *args: Any, amazonopensearchservice_destination_configuration: Any = None, **kwargs: Any
    ) -> str:
        params = dict(zip(_CREATE_PARAMS, args, strict=False))
        params.update(kwargs)
        if amazonopensearchservice_destination_configuration:
            others = [k for k, v in params.items() if k.endswith("_destination_configuration") and v]
            if others:
                raise InvalidArgumentException("Exactly one destination configuration is supported for a Firehose")
            params["elasticsearch_destination_configuration"] = amazonopensearchservice_destination_configuration
        arn = original_create(self, **params)
        stream = self.delivery_streams[params["delivery_stream_name"]]
        if amazonopensearchservice_destination_configuration:
            stream.destinations[0][OPENSEARCH] = stream.destinations[0].pop("Elasticsearch")
        if stream.delivery_stream_encryption_configuration:
            stream.delivery_stream_encryption_configuration["Status"] = "ENABLED"
        return str(arn)

    original_update = backend_cls.update_destination

    def update_destination(
        self: Any, *args: Any, amazonopensearchservice_destination_update: Any = None, **kwargs: Any
    ) -> None:
        if not amazonopensearchservice_destination_update:
            original_update(self, *args, **kwargs)
            return
        params = dict(zip(_UPDATE_PARAMS, args, strict=False))
        params.update(kwargs)
        name = params["delivery_stream_name"]
        stream = self.delivery_streams.get(name)
        if stream is None:
            raise ResourceNotFoundException(f"Firehose {name} under accountId {self.account_id} not found.")
        if stream.version_id != params["current_delivery_stream_version_id"]:
            raise ConcurrentModificationException(
                f"Cannot update firehose: {name} since the current version id: {stream.version_id} and "
                f"specified version id: {params['current_delivery_stream_version_id']} do not match"
            )
        destination = next((d for d in stream.destinations if d["destination_id"] == params["destination_id"]), None)
        if destination is None:
            raise InvalidArgumentException(f"Destination Id {params['destination_id']} not found")
        if OPENSEARCH not in destination:
            raise InvalidArgumentException(
                f"Changing the destination type to or from {OPENSEARCH} is not supported at this time."
            )
        update = dict(amazonopensearchservice_destination_update)
        s3_update = update.pop("S3Update", None)
        config = destination[OPENSEARCH]
        config.update(update)
        if s3_update:
            config.setdefault("S3DestinationDescription", {}).update(s3_update)
        stream.version_id = str(int(stream.version_id) + 1)
        stream.last_update_timestamp = utcnow()

    def create_delivery_stream_response(self: Any) -> ActionResult:
        arn = self.firehose_backend.create_delivery_stream(
            region=self.region,
            **{name: self._get_param(param) for name, param in _CREATE_REQUEST_FIELDS.items()},
            amazonopensearchservice_destination_configuration=self._get_param(
                "AmazonopensearchserviceDestinationConfiguration"
            ),
        )
        return ActionResult({"DeliveryStreamARN": arn})

    def update_destination_response(self: Any) -> EmptyResult:
        self.firehose_backend.update_destination(
            **{name: self._get_param(param) for name, param in _UPDATE_REQUEST_FIELDS.items()},
            amazonopensearchservice_destination_update=self._get_param("AmazonopensearchserviceDestinationUpdate"),
        )
        return EmptyResult()

    backend_cls.create_delivery_stream = create_delivery_stream  # type: ignore[method-assign]
    backend_cls.update_destination = update_destination  # type: ignore[method-assign]
    responses.FirehoseResponse.create_delivery_stream = create_delivery_stream_response  # type: ignore[method-assign]
    responses.FirehoseResponse.update_destination = update_destination_response  # type: ignore[method-assign]


# Positional parameters of moto 5.2.5's FirehoseBackend methods, and the request fields they come from.
_CREATE_REQUEST_FIELDS = {
    "delivery_stream_name": "DeliveryStreamName",
    "delivery_stream_type": "DeliveryStreamType",
    "kinesis_stream_source_configuration": "KinesisStreamSourceConfiguration",
    "delivery_stream_encryption_configuration_input": "DeliveryStreamEncryptionConfigurationInput",
    "s3_destination_configuration": "S3DestinationConfiguration",
    "extended_s3_destination_configuration": "ExtendedS3DestinationConfiguration",
    "redshift_destination_configuration": "RedshiftDestinationConfiguration",
    "elasticsearch_destination_configuration": "ElasticsearchDestinationConfiguration",
    "splunk_destination_configuration": "SplunkDestinationConfiguration",
    "http_endpoint_destination_configuration": "HttpEndpointDestinationConfiguration",
    "snowflake_destination_configuration": "SnowflakeDestinationConfiguration",
    "iceberg_destination_configuration": "IcebergDestinationConfiguration",
    "tags": "Tags",
}
_CREATE_PARAMS = ("region", *_CREATE_REQUEST_FIELDS)
_UPDATE_REQUEST_FIELDS = {
    "delivery_stream_name": "DeliveryStreamName",
    "current_delivery_stream_version_id": "CurrentDeliveryStreamVersionId",
    "destination_id": "DestinationId",
    "s3_destination_update": "S3DestinationUpdate",
    "extended_s3_destination_update": "ExtendedS3DestinationUpdate",
    "s3_backup_mode": "S3BackupMode",
    "redshift_destination_update": "RedshiftDestinationUpdate",
    "elasticsearch_destination_update": "ElasticsearchDestinationUpdate",
    "splunk_destination_update": "SplunkDestinationUpdate",
    "http_endpoint_destination_update": "HttpEndpointDestinationUpdate",
    "snowflake_destination_configuration": "SnowflakeDestinationConfiguration",
    "iceberg_destination_update": "IcebergDestinationUpdate",
}
_UPDATE_PARAMS = tuple(_UPDATE_REQUEST_FIELDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # werkzeug logs every request at INFO unless told otherwise; the test fixture reads this process's
    # output only when start-up fails, so a long run would fill the pipe and block the server.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    configure_environment()
    apply_patches()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"moto server listening on http://{args.host}:{args.port}", flush=True)
    try:
        server._thread.join()  # type: ignore[union-attr]  # run until killed
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
