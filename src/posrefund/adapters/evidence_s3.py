"""Evidence files in an S3-compatible object store (AWS S3, MinIO, Ceph, or a cloud's S3 interface), shared by
every API node: what one node received, any other serves.

Each object is ``<prefix><merchant>/ab/cdef…`` and holds the file sealed by ``Envelope`` (its own data key,
wrapped by the master key, bound to that address): the bucket's owner, a leaked bucket credential or an
object copied to another merchant's address yields nothing readable. Server-side encryption can be asked
for on top. Every read is opened and its SHA-256 checked before a byte leaves this module."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from posrefund.adapters.envelope import Envelope, EnvelopeError
from posrefund.adapters.files import object_address
from posrefund.ports import EvidenceDamaged, EvidenceStoreDown

log = logging.getLogger(__name__)
# What the store answers for an object that is not there (GET and HEAD say it differently).
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class S3Connection:
    """How to reach the store; empty credentials leave them to boto3's own chain (environment, instance role)."""

    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = ""
    addressing_style: str = "auto"
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_attempts: int = 2  # the first try included


def s3_client(conn: S3Connection) -> Any:
    """A client with bounded waits: each try gives up after the timeouts, and the standard retry mode tries
    again (with backoff) only what may succeed again — throttling, 5xx, dropped connections."""
    config = Config(
        connect_timeout=conn.connect_timeout,
        read_timeout=conn.read_timeout,
        retries={"total_max_attempts": conn.max_attempts, "mode": "standard"},
        s3={"addressing_style": conn.addressing_style},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=conn.endpoint_url or None,
        region_name=conn.region or None,
        aws_access_key_id=conn.access_key_id or None,
        aws_secret_access_key=conn.secret_access_key or None,
        config=config,
    )


class S3EvidenceStore:
    def __init__(
        self, client: Any, bucket: str, envelope: Envelope, *, prefix: str = "", server_side_encryption: str = ""
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._envelope = envelope
        self._sse = {"ServerSideEncryption": server_side_encryption} if server_side_encryption else {}

    def key_of(self, merchant_id: str, sha256: str) -> str:
        return self.prefix + object_address(merchant_id, sha256)

    def put(self, merchant_id: str, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        address = object_address(merchant_id, digest)
        sealed = self._envelope.seal(content, address.encode())
        with self._answering("put"):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + address,
                Body=sealed,
                ContentType="application/octet-stream",
                **self._sse,
            )
        return digest

    def get(self, merchant_id: str, sha256: str) -> bytes:
        address = object_address(merchant_id, sha256)
        with self._answering("get"):
            sealed = self.client.get_object(Bucket=self.bucket, Key=self.prefix + address)["Body"].read()
        try:
            content = self._envelope.open(bytes(sealed), address.encode())
        except EnvelopeError as exc:
            raise EvidenceDamaged(str(exc)) from exc
        if hashlib.sha256(content).hexdigest() != sha256:
            raise EvidenceDamaged("the content does not match its SHA-256")
        return content

    @contextmanager
    def _answering(self, op: str) -> Iterator[None]:
        """The client's failures in the port's words: a missing object is damage (its record says it was
        stored), anything else the store answers or fails to answer means it cannot serve us now."""
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise EvidenceDamaged("missing") from exc
            log.warning("evidence store refused %s: %s", op, code)
            raise EvidenceStoreDown(f"the object store refused: {code}") from exc
        except BotoCoreError as exc:
            log.warning("evidence store unreachable on %s: %s", op, type(exc).__name__)
            raise EvidenceStoreDown(f"the object store did not answer: {type(exc).__name__}") from exc
