"""HTTP access to an OpenSearch domain and its Dashboards: auth (IAM role or SigV4) and actionable errors.

The domain's master user is an IAM role (Terraform output ``opensearch_admin_role_arn``), so the default auth
assumes that role with STS and signs every request with botocore's ``SigV4Auth`` (service ``es``). ``--sigv4``
signs with the caller's own credentials instead (a principal already mapped to a security role). HTTP basic
auth (``--username`` plus the password in ``$OPENSEARCH_PASSWORD``) remains for self-managed clusters with an
internal user database; the AWS domain has none. No hand-rolled signing, and no password is ever read from
Terraform. Errors a person can act on are raised as ``OpenSearchError`` whose message says what to check;
passwords and session credentials never appear in messages or logs.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from ingester.aws import sigv4_headers

log = logging.getLogger(__name__)

# The Terraform variable holding the source-IP allow-list of the domain (terraform/variables.tf).
ALLOW_LIST_HINT = (
    "the domain only accepts clients allowed by its access policy: add your public IP "
    "(curl -s https://checkip.amazonaws.com) "
    "to the IP allow-list dashboards_allowed_cidrs in terraform/terraform.tfvars and re-apply; "
    "if the domain is deployed in a VPC, run this from a host inside that VPC (or through a tunnel)"
)
# An unreachable cluster on this machine (the demo's --opensearch-url, a compose stack) is not an AWS domain: the
# allow-list and VPC advice above would send its user the wrong way.
LOCAL_HINT = (
    "nothing answers there: is the local OpenSearch running and listening on that port? "
    "(make demo-opensearch starts one with Docker; curl the URL to check)"
)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal")  # noqa: S104  # names, not binds
DEFAULT_TIMEOUT = 30.0
_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:es|aoss)\.amazonaws\.com$")


AuthMode = Literal[
    "assume_role",  # default: STS AssumeRole of the admin role (the master user), then SigV4 as that role
    "sigv4",  # SigV4 with the caller's own credentials (--sigv4)
    "password",  # HTTP basic auth, --username with $OPENSEARCH_PASSWORD (self-managed clusters only)
]


class OpenSearchError(RuntimeError):
    """A failure with a message a person can act on."""


class Refused(OpenSearchError):
    """HTTP 401 or 403: the server understood the request and will not serve this principal."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def endpoint_url(endpoint: str) -> str:
    """``search-x.eu-west-1.es.amazonaws.com`` -> ``https://search-x...``; URLs with a scheme are kept."""
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint:
        raise OpenSearchError("the OpenSearch endpoint is empty")
    return endpoint if re.match(r"^https?://", endpoint) else f"https://{endpoint}"


def unreachable_hint(base_url: str) -> str:
    """What to check when ``base_url`` cannot be reached: the local cluster for a loopback host, else the domain's
    access policy (allow-list, VPC)."""
    host = (urlsplit(base_url).hostname or "").lower()
    return LOCAL_HINT if host in _LOCAL_HOSTS or host.endswith(".localhost") else ALLOW_LIST_HINT


def region_from_endpoint(endpoint: str) -> str | None:
    host = urlsplit(endpoint_url(endpoint)).hostname or ""
    match = _REGION_IN_HOST.search(host)
    return match.group(1) if match else None


class SigV4RequestsAuth(requests.auth.AuthBase):
    """Sign each prepared request with botocore's SigV4Auth (service "es" by default)."""

    def __init__(self, credentials: Any, region: str, service: str = "es") -> None:
        self.credentials = credentials
        self.region = region
        self.service = service

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = {}
        if r.headers.get("Content-Type"):
            headers["Content-Type"] = r.headers["Content-Type"]
        body = r.body.encode() if isinstance(r.body, str) else r.body
        signed = sigv4_headers(
            self.credentials,
            self.region,
            method=str(r.method),
            url=str(r.url),
            body=body or b"",
            headers=headers,
            service=self.service,
        )
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed:
                r.headers[name] = signed[name]
        return r


@dataclass(frozen=True)
class Auth:
    """How requests authenticate; ``describe`` names the principal for error messages (never a password).

    For SigV4 the IAM ARN is looked up (STS GetCallerIdentity) only when an error message needs it.
    """

    kind: str  # "basic" | "sigv4" | "none"
    requests_auth: requests.auth.AuthBase | None
    principal: str
    principal_lookup: Callable[[], str] | None = None

    def describe(self, *, resolve: bool = False) -> str:
        if self.kind == "basic":
            return f"HTTP basic auth as user '{self.principal}'"
        if self.kind == "sigv4":
            who = self.principal_lookup() if resolve and self.principal_lookup else self.principal
            return f"SigV4 (IAM) as {who}"
        return "no authentication"


def basic_auth(username: str, password: str) -> Auth:
    return Auth("basic", requests.auth.HTTPBasicAuth(username, password), username)


def sigv4_auth(region: str | None) -> Auth:
    import boto3

    session = boto3.Session(region_name=region)
    credentials = session.get_credentials()
    if credentials is None:
        raise OpenSearchError("--sigv4 needs AWS credentials (environment, profile or instance role); none found")
    if not session.region_name:
        raise OpenSearchError("--sigv4 needs a region: pass --region (or set AWS_REGION)")
    key = credentials.get_frozen_credentials().access_key
    return Auth(
        "sigv4",
        SigV4RequestsAuth(credentials, session.region_name),
        f"access key {key[:4]}… in {session.region_name}",
        lambda: _caller_arn(session),
    )


def assume_role_auth(role_arn: str, region: str | None, *, session_name: str = "tweet-sentiment-opensearch") -> Auth:
    """Assume ``role_arn`` (the domain's master user) with STS and sign requests with the session's credentials.

    The session lasts one hour (the admin role's maximum), which covers a setup or smoke run.
    """
    import boto3
    from botocore.credentials import Credentials
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.Session(region_name=region)
    if not session.region_name:
        raise OpenSearchError("assuming the admin role needs a region: pass --region (or set AWS_REGION)")
    if session.get_credentials() is None:
        raise OpenSearchError(
            f"assuming the admin role {role_arn} needs AWS credentials (environment, profile or instance role); "
            "none found"
        )
    try:
        response = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)
    except (ClientError, BotoCoreError) as exc:
        raise OpenSearchError(
            f"cannot assume the OpenSearch admin role {role_arn} ({_aws_error(exc)}): your IAM principal needs "
            "sts:AssumeRole on it and must be trusted by it (Terraform variable opensearch_admin_principal_arns; "
            "by default the role trusts this account's IAM policies)"
        ) from exc
    creds = response["Credentials"]
    credentials = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return Auth(
        "sigv4",
        SigV4RequestsAuth(credentials, session.region_name),
        f"{response['AssumedRoleUser']['Arn']} (assumed admin role)",
    )


PASSWORD_ENV = "OPENSEARCH_PASSWORD"  # noqa: S105  # the variable's name, not a password


def choose_auth(
    *, sigv4: bool, username: str | None, role_arn: str | None, region: str | None, environ: Mapping[str, str]
) -> Auth:
    """Basic auth with --username and the password from $OPENSEARCH_PASSWORD (self-managed clusters); else SigV4
    with the caller's own credentials when --sigv4; else SigV4 as the assumed admin role."""
    if username:
        password = environ.get(PASSWORD_ENV)
        if not password:
            raise OpenSearchError(f"--username needs the password in the environment variable {PASSWORD_ENV}")
        return basic_auth(username, password)
    if sigv4:
        return sigv4_auth(region)
    if not role_arn:
        raise OpenSearchError("no credentials: pass --role-arn (or --sigv4, or --username)")
    return assume_role_auth(role_arn, region)


def add_auth_arguments(parser: argparse.ArgumentParser) -> None:
    """The auth flags every tool that talks to the domain takes (read back by :func:`choose_auth`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--role-arn",
        help="IAM role to assume and sign requests as (default: output opensearch_admin_role_arn, the master user)",
    )
    group.add_argument(
        "--sigv4", action="store_true", help="sign requests with your own IAM credentials instead of assuming a role"
    )
    group.add_argument(
        "--username",
        help=f"HTTP basic auth user of a self-managed cluster (password from env {PASSWORD_ENV}); "
        "the AWS domain has no internal users",
    )


def _aws_error(exc: BaseException) -> str:
    """``AccessDenied: User ... is not authorized ...`` for a ClientError; the class name otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip(": ")
    return f"{type(exc).__name__}: {exc}"


def _caller_arn(session: Any) -> str:
    """The IAM principal behind the credentials, for error messages; best effort."""
    from botocore.config import Config

    try:
        config = Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 1})
        return str(session.client("sts", config=config).get_caller_identity()["Arn"])
    except Exception:  # any failure here must not hide the real error
        key = session.get_credentials()
        return f"access key {key.access_key[:4]}…" if key is not None else "unknown IAM principal"


class Client:
    """A thin requests wrapper: JSON in and out, every request recorded for the step report."""

    def __init__(self, base_url: str, auth: Auth, *, timeout: float = DEFAULT_TIMEOUT, verify: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = verify
        self.writes = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> requests.Response:
        url = f"{self.base_url}/{path.lstrip('/')}"
        data = None
        hdrs = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            hdrs.setdefault("Content-Type", "application/json")
        try:
            resp = self.session.request(
                method,
                url,
                data=data,
                params=params,
                headers=hdrs,
                files=files,
                auth=self.auth.requests_auth,
                timeout=self.timeout,
            )
        except requests.exceptions.SSLError as exc:
            raise OpenSearchError(f"TLS error talking to {self.base_url}: {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise OpenSearchError(
                f"timed out after {self.timeout:.0f}s connecting to {self.base_url}: {unreachable_hint(self.base_url)}"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            hint = unreachable_hint(self.base_url)
            raise OpenSearchError(f"cannot connect to {self.base_url} ({_reason(exc)}): {hint}") from exc
        if method not in ("GET", "HEAD"):
            self.writes += 1
        log.debug("%s %s -> %s", method, url, resp.status_code)
        if resp.status_code in (401, 403):
            raise Refused(
                f"{method} {path} was refused with HTTP {resp.status_code} using {self.auth.describe(resolve=True)}: "
                f"{_error_text(resp)}. "
                + (
                    f"Check the user name and the password in ${PASSWORD_ENV}."
                    if self.auth.kind == "basic"
                    else "Map this IAM principal to a security role (or use the admin role, the master user), "
                    "and check the domain's access policy."
                ),
                resp.status_code,
            )
        if resp.status_code not in ok:
            text = _error_text(resp)
            hint = ""
            if "no handler found" in text.lower() and "_security" in path:
                hint = " (the security plugin is not installed on this cluster: pass --skip-roles)"
            elif "no handler found" in text.lower():
                hint = " (this API does not exist on this cluster: check the OpenSearch version and plugins)"
            raise OpenSearchError(f"{method} {path} failed with HTTP {resp.status_code}: {text}{hint}")
        return resp

    def get_json(
        self, path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Any | None:
        """GET a JSON document; ``None`` on 404."""
        resp = self.request("GET", path, params=params, headers=headers, ok=(200, 404))
        if resp.status_code == 404:
            return None
        return resp.json()


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in (("Connection refused", "connection refused"), ("Name or service not known", "unknown host"),
                           ("nodename nor servname", "unknown host"), ("timed out", "timed out")):  # fmt: skip
        if needle in text:
            return reason
    return type(exc).__name__


def _error_text(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300].strip() or resp.reason
    if isinstance(body, dict):
        err = body.get("error", body.get("message", body))
        if isinstance(err, dict):
            root = err.get("root_cause") or [err]
            first = root[0] if isinstance(root, list) and root else err
            return f"{first.get('type', '')}: {first.get('reason', json.dumps(err)[:300])}".strip(": ")
        return str(err)[:300]
    return json.dumps(body)[:300]


def check_version(info: Mapping[str, Any], *, minimum_major: int = 1) -> str:
    """Accept OpenSearch >= ``minimum_major``; explain what was found otherwise. Returns e.g. 'OpenSearch 2.13.0'."""
    version = info.get("version") or {}
    distribution = str(version.get("distribution") or "elasticsearch")
    number = str(version.get("number") or "unknown")
    found = f"{distribution} {number}"
    if distribution.lower() != "opensearch":
        raise OpenSearchError(
            f"version mismatch: found {found}, need OpenSearch >= {minimum_major}.0 (2.x recommended): the _plugins "
            "APIs used for retention and roles exist only in OpenSearch "
            "(set the domain's engine version to OpenSearch_2.x)"
        )
    try:
        major = int(number.split(".", maxsplit=1)[0])
    except ValueError as exc:
        raise OpenSearchError(f"version mismatch: cannot read the version number '{number}'") from exc
    if major < minimum_major:
        raise OpenSearchError(f"version mismatch: found OpenSearch {number}, need >= {minimum_major}.0")
    return f"OpenSearch {number}"
