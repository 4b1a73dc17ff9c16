"""A real S3-compatible server for the evidence tests: moto's server (``python -m moto.server``, from the
dev dependencies) started once per test session on a free port and stopped at its end, so the tests need
nothing beyond the virtualenv. The tests talk to it over HTTP exactly as to MinIO or S3."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from pydantic import SecretStr

from posrefund.config import EvidenceSettings, Settings
from tests.support.ports import free_port

ACCESS_KEY = "posrefund-test"
SECRET_KEY = "posrefund-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class ObjectStoreServer:
    endpoint_url: str

    def client(self) -> Any:
        """A plain boto3 client of the server, for what a test does behind the service's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> Bucket:
        bucket = Bucket(f"evidence-{uuid.uuid4().hex[:16]}", self.endpoint_url, self.client())
        bucket.s3.create_bucket(Bucket=bucket.name)
        return bucket


@dataclass(frozen=True)
class Bucket:
    """A fresh bucket of the server, with a client of its own for going behind the service's back."""

    name: str
    endpoint_url: str
    s3: Any


def _wait_for(port: int, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not listen on {port} within {seconds} s")


@pytest.fixture(scope="session")
def object_store_server() -> Iterator[ObjectStoreServer]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, proc)
        yield ObjectStoreServer(f"http://127.0.0.1:{port}")
    finally:
        proc.kill()  # nothing of it needs keeping
        proc.wait()


def s3_settings(settings: Settings, endpoint_url: str, bucket: str, master_key: str, **extra: Any) -> Settings:
    """The test's settings with evidence in ``bucket`` of the store at ``endpoint_url``."""
    evidence = EvidenceSettings(
        backend="s3",
        endpoint_url=endpoint_url,
        bucket=bucket,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SecretStr(SECRET_KEY),
        master_key=SecretStr(master_key),
        addressing_style="path",
        **extra,
    )
    return settings.model_copy(update={"evidence": evidence})


@contextmanager
def silent_server() -> Iterator[str]:
    """An endpoint that accepts connections and never answers: a store that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
