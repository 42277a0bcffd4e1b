"""AWS Secrets Manager through boto3: read the current/previous value, put a new one.

boto3 finds credentials the usual AWS way; `AWS_SECRETS_ENDPOINT_URL` points it
at moto in tests and the demo. botocore errors are mapped to our typed errors
with the AWS error code; secret values never appear in messages.
"""

import threading

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from django.conf import settings

from integrations.errors import (
    IntegrationError,
    NotConfigured,
    RateLimited,
    Rejected,
    Timeout,
    Unavailable,
)

THROTTLE_CODES = {"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}

# Building a boto3 client loads service models (~100s of ms of CPU): one per configuration
# per process; boto3 clients are thread-safe.
_boto_clients: dict[tuple, object] = {}
_boto_lock = threading.Lock()


class SecretsManagerClient:
    service = "secrets_manager"

    def __init__(self, *, connect_timeout: float | None = None, read_timeout: float | None = None):
        self.enabled = settings.SECRETS_MANAGER_ENABLED
        self.endpoint_url = settings.AWS_SECRETS_ENDPOINT_URL
        self.region = settings.AWS_REGION
        self.connect_timeout = connect_timeout or settings.INTEGRATIONS_CONNECT_TIMEOUT
        self.read_timeout = read_timeout or settings.INTEGRATIONS_READ_TIMEOUT

    @property
    def configured(self) -> bool:
        return self.enabled

    @property
    def _boto(self):
        import boto3

        key = (self.region, self.endpoint_url, self.connect_timeout, self.read_timeout)
        with _boto_lock:
            client = _boto_clients.get(key)
            if client is None:
                config = Config(
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                )
                client = _boto_clients[key] = boto3.session.Session().client(
                    "secretsmanager",
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=config,
                )
        return client

    def _call(self, operation: str, **kwargs):
        if not self.enabled:
            raise NotConfigured(f"{self.service}: switched off", service=self.service)
        try:
            return getattr(self._boto, operation)(**kwargs)
        except ClientError as exc:
            raise self._from_client_error(exc) from None
        except (ConnectTimeoutError, ReadTimeoutError):
            raise Timeout(f"{self.service}: no answer in time", service=self.service) from None
        except EndpointConnectionError:
            raise Unavailable(f"{self.service}: connection failed", service=self.service) from None
        except NoCredentialsError:
            raise NotConfigured(
                f"{self.service}: no AWS credentials", service=self.service
            ) from None
        except BotoCoreError as exc:
            raise Unavailable(
                f"{self.service}: {type(exc).__name__}", service=self.service
            ) from None

    def _from_client_error(self, exc: ClientError) -> IntegrationError:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in THROTTLE_CODES:
            return RateLimited(service=self.service, status=status, code=code)
        if status and status >= 500 or code in {"InternalServiceError", "InternalFailure"}:
            return Unavailable(service=self.service, status=status, code=code)
        return Rejected(service=self.service, status=status, code=code or str(status))

    def get_current(self, secret_id: str) -> str:
        return self._call("get_secret_value", SecretId=secret_id)["SecretString"]

    def get_previous(self, secret_id: str) -> str:
        return self._call("get_secret_value", SecretId=secret_id, VersionStage="AWSPREVIOUS")[
            "SecretString"
        ]

    def put(self, secret_id: str, value: str) -> str:
        """Store `value` as AWSCURRENT (the old one becomes AWSPREVIOUS); returns the version id."""
        return self._call("put_secret_value", SecretId=secret_id, SecretString=value)["VersionId"]

    def describe(self, secret_id: str) -> dict:
        """Metadata only (no value): what the probe uses."""
        response = self._call("describe_secret", SecretId=secret_id)
        return {
            "name": response.get("Name"),
            "versions": len(response.get("VersionIdsToStages") or {}),
        }
