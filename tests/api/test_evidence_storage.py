"""Evidence in a shared object store, through the API of two app instances (two bootstraps, two engines, one
database, one bucket of a real S3-compatible server): what one node received the other serves byte for
byte; bytes changed in the bucket are refused, never served; another merchant gets 404; a store that is
down or hangs answers 503 within the configured timeouts. The local folder stays the default and is held to
the same check."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from posrefund import bootstrap
from posrefund.adapters.crypto import generate_key_spec
from posrefund.adapters.db import tables
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.passwords import Argon2Hasher
from posrefund.config import ConfigError, EvidenceSettings, Settings
from posrefund.entrypoints.api.app import create_app
from posrefund.ports import EvidenceDamaged
from tests.api.conftest import Auth
from tests.conftest import FixedClock, World
from tests.console.conftest import Browser
from tests.support.limits import RELAXED
from tests.support.object_store import (
    Bucket,
    ObjectStoreServer,
    object_store_server,  # noqa: F401 - the session's server, a fixture
    s3_settings,
    silent_server,
)
from tests.support.ports import free_port

JPEG = b"\xff\xd8\xff\xe0" + b"receipt of node one " * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"a second photo " * 30


@dataclass
class Node:
    """One API node: its own bootstrap, engine, data folder and app."""

    settings: Settings
    engine: Engine
    client: TestClient


@pytest.fixture
def bucket(object_store_server: ObjectStoreServer) -> Bucket:  # noqa: F811
    return object_store_server.new_bucket()


@pytest.fixture
def master_key() -> str:
    return generate_key_spec("e1")


@pytest.fixture
def nodes(
    settings: Settings,
    world: World,
    clock: FixedClock,
    backend: str,
    tmp_path: Path,
    bucket: Bucket,
    master_key: str,
) -> Iterator[list[Node]]:
    made: list[Node] = []
    for n in (1, 2):
        conf = s3_settings(settings, bucket.endpoint_url, bucket.name, master_key)
        made.append(start_node(conf.model_copy(update={"data_dir": tmp_path / f"node{n}"}), clock, backend))
    yield made
    stop(made)


def start_node(conf: Settings, clock: FixedClock, backend: str) -> Node:
    engine = make_engine(conf.database_url)
    deps = bootstrap.build(conf, engine=engine, clock=clock, hasher=Argon2Hasher(fast=True))
    app: FastAPI = create_app(deps, inline=backend == "sqlite", rate_limits=RELAXED)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    return Node(conf, engine, client)


def stop(nodes: list[Node]) -> None:
    for node in nodes:
        node.client.__exit__(None, None, None)
        node.engine.dispose()


@pytest.fixture
def node_auth(nodes: list[Node], world: World) -> Auth:
    # Both nodes sign with the same secret key: a token from one is good on the other.
    app = nodes[0].client.app
    assert isinstance(app, FastAPI)
    return Auth(app, world)


def upload(node: Node, auth: Auth, content: bytes, who: str = "a.cashier", name: str = "r.jpg") -> dict[str, str]:
    r = node.client.post("/v1/evidence", files={"file": (name, content)}, data={"kind": "receipt"}, headers=auth(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def object_key(merchant_id: str, sha256: str) -> str:
    return f"evidence/{merchant_id}/{sha256[:2]}/{sha256[2:]}"


def test_a_file_uploaded_on_one_node_is_served_by_another(
    nodes: list[Node], node_auth: Auth, world: World, bucket: Bucket
) -> None:
    one, two = nodes
    row = upload(one, node_auth, JPEG)
    assert (row["merchant_id"], row["sha256"], row["size"]) == (world.a.id, hashlib.sha256(JPEG).hexdigest(), len(JPEG))

    served = two.client.get(f"/v1/evidence/{row['id']}/content", headers=node_auth("a.supervisor"))
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg"
    meta = two.client.get(f"/v1/evidence/{row['id']}", headers=node_auth("a.supervisor"))
    assert meta.status_code == 200 and meta.json()["sha256"] == row["sha256"]

    # In the bucket: under the merchant's own prefix, sealed (no byte of the photo in clear); on no disk.
    sealed = bucket.s3.get_object(Bucket=bucket.name, Key=object_key(world.a.id, row["sha256"]))
    body = sealed["Body"].read()
    assert body.startswith(b"PRE1") and b"receipt of node one" not in body
    assert not (one.settings.data_dir / "evidence").exists() and not (two.settings.data_dir / "evidence").exists()


def test_another_merchant_gets_404_on_every_node(nodes: list[Node], node_auth: Auth) -> None:
    row = upload(nodes[0], node_auth, JPEG)
    for node in nodes:
        for path in (f"/v1/evidence/{row['id']}", f"/v1/evidence/{row['id']}/content"):
            r = node.client.get(path, headers=node_auth("b.supervisor"))
            assert (r.status_code, r.json()["code"]) == (404, "evidence.not_found")


def test_an_object_changed_in_the_bucket_is_refused_and_audited(
    nodes: list[Node], node_auth: Auth, world: World, engine: Engine, bucket: Bucket
) -> None:
    one, two = nodes
    s3, name = bucket.s3, bucket.name
    garbled, swapped, deleted, copied = (upload(one, node_auth, JPEG + bytes([n])) for n in range(4))
    other = upload(one, node_auth, PNG, name="p.png")
    theirs = upload(one, node_auth, JPEG + bytes([3]), who="b.cashier")  # b's copy of the bytes of `copied`
    key = {
        r["id"]: object_key(r["merchant_id"], r["sha256"]) for r in (garbled, swapped, deleted, copied, other, theirs)
    }

    # Bytes flipped in place; another of the merchant's sealed files put in this one's place; gone.
    body = bytearray(s3.get_object(Bucket=name, Key=key[garbled["id"]])["Body"].read())
    body[-5] ^= 0xFF
    s3.put_object(Bucket=name, Key=key[garbled["id"]], Body=bytes(body))
    s3.copy_object(Bucket=name, Key=key[swapped["id"]], CopySource={"Bucket": name, "Key": key[other["id"]]})
    s3.delete_object(Bucket=name, Key=key[deleted["id"]])
    # Merchant b's sealed copy of the same bytes put under merchant a's address: sealed for b, it opens only there.
    s3.copy_object(Bucket=name, Key=key[copied["id"]], CopySource={"Bucket": name, "Key": key[theirs["id"]]})

    for row in (garbled, swapped, deleted, copied):
        r = two.client.get(f"/v1/evidence/{row['id']}/content", headers=node_auth("a.supervisor"))
        assert (r.status_code, r.json()["code"]) == (502, "evidence.damaged"), row
        assert r.json()["params"] == {"evidence_id": row["id"]}
    # The record is still there to describe; the untouched files are still served.
    assert two.client.get(f"/v1/evidence/{garbled['id']}", headers=node_auth("a.supervisor")).status_code == 200
    assert two.client.get(f"/v1/evidence/{other['id']}/content", headers=node_auth("a.supervisor")).content == PNG
    assert (
        two.client.get(f"/v1/evidence/{theirs['id']}/content", headers=node_auth("b.supervisor")).content
        == JPEG + b"\x03"
    )
    e = tables.audit_events.c
    with engine.connect() as c:
        audited = c.execute(select(e.actor_id, e.data).where(e.action == "evidence.damaged")).all()
    assert sorted(json.loads(data)["evidence_id"] for _, data in audited) == sorted(
        r["id"] for r in (garbled, swapped, deleted, copied)
    )
    assert {actor for actor, _ in audited} == {world.a.actors["supervisor"].id}


def test_the_console_of_another_node_shows_the_file_and_refuses_a_damaged_one(
    nodes: list[Node], node_auth: Auth, world: World, bucket: Bucket
) -> None:
    row = upload(nodes[0], node_auth, JPEG)
    app = nodes[1].client.app
    assert isinstance(app, FastAPI)
    browser = Browser(app)
    with browser.client:
        browser.sign_in(world.a.usernames["supervisor"])
        shown = browser.get(f"/console/evidence/{row['id']}")
        assert shown.status_code == 200 and shown.content == JPEG
        bucket.s3.put_object(Bucket=bucket.name, Key=object_key(world.a.id, row["sha256"]), Body=b"PRE1 not sealed")
        refused = browser.get(f"/console/evidence/{row['id']}")
    assert refused.status_code == 502 and "凭证文件校验失败" in refused.text and "PRE1" not in refused.text


def test_the_master_key_rotates_and_the_store_encrypts_too_when_asked(
    settings: Settings, bucket: Bucket, master_key: str
) -> None:
    """A new master key first, the old one after it: new objects sealed with the new one, old ones still open;
    without the old key they are damaged, not served. ``SERVER_SIDE_ENCRYPTION`` reaches the store."""
    older = bootstrap.evidence_store_from(s3_settings(settings, bucket.endpoint_url, bucket.name, master_key))
    sha = older.put("mch_a", JPEG)
    both = f"{generate_key_spec('e2')},{master_key}"
    newer = bootstrap.evidence_store_from(
        s3_settings(settings, bucket.endpoint_url, bucket.name, both, server_side_encryption="AES256")
    )
    assert newer.get("mch_a", sha) == JPEG
    png = newer.put("mch_a", PNG)
    head = bucket.s3.head_object(Bucket=bucket.name, Key=object_key("mch_a", png))
    assert head["ServerSideEncryption"] == "AES256"
    assert bucket.s3.get_object(Bucket=bucket.name, Key=object_key("mch_a", png))["Body"].read()[4:7] == b"\x02e2"
    only_new = bootstrap.evidence_store_from(
        s3_settings(settings, bucket.endpoint_url, bucket.name, both.split(",", maxsplit=1)[0])
    )
    assert only_new.get("mch_a", png) == PNG
    with pytest.raises(EvidenceDamaged, match="not configured"):
        only_new.get("mch_a", sha)


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_a_store_that_is_down_answers_503_within_its_timeouts(
    how: str,
    nodes: list[Node],
    node_auth: Auth,
    settings: Settings,
    clock: FixedClock,
    backend: str,
    engine: Engine,
    bucket: Bucket,
    master_key: str,
) -> None:
    stored = upload(nodes[0], node_auth, JPEG)
    with silent_server() as silent:
        endpoint = silent if how == "silent" else f"http://127.0.0.1:{free_port()}"
        conf = s3_settings(
            settings,
            endpoint,
            bucket.name,
            master_key,
            connect_timeout_seconds=0.5,
            read_timeout_seconds=0.5,
            max_attempts=2,
        )
        down = start_node(conf, clock, backend)
        try:
            started = time.monotonic()
            put = down.client.post("/v1/evidence", files={"file": ("r.jpg", PNG)}, headers=node_auth("a.cashier"))
            got = down.client.get(f"/v1/evidence/{stored['id']}/content", headers=node_auth("a.cashier"))
            waited = time.monotonic() - started
            meta = down.client.get(f"/v1/evidence/{stored['id']}", headers=node_auth("a.cashier"))
        finally:
            stop([down])
    for r in (put, got):
        assert (r.status_code, r.json()["code"]) == (503, "evidence.store_unavailable")
        assert r.headers["retry-after"] == "5" and r.json()["params"] == {"retry_after": 5}
    assert put.json()["message"].startswith("凭证存储暂时无法访问")
    assert waited < 8, waited  # silent: 2 tries × 0.5 s to read, + 1 s a put try waits for 100-continue (4 s measured)
    assert meta.status_code == 200  # the record is in the database, not in the store
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(tables.evidence)).scalar_one() == 1


def test_the_local_folder_refuses_a_changed_file_and_reads_the_former_layout(
    client: TestClient, auth: Auth, world: World, settings: Settings
) -> None:
    """The default store: ``<data_dir>/evidence/<merchant>/ab/cdef…``; files written before the merchant's
    folder existed (``<data_dir>/evidence/ab/cdef…``) are still served."""
    headers = auth("a.cashier")
    first, second = (
        client.post("/v1/evidence", files={"file": ("r.jpg", body)}, headers=headers).json() for body in (JPEG, PNG)
    )
    root = settings.data_dir / "evidence"
    changed = root / world.a.id / first["sha256"][:2] / first["sha256"][2:]
    changed.write_bytes(JPEG.replace(b"node one", b"node two"))
    r = client.get(f"/v1/evidence/{first['id']}/content", headers=headers)
    assert (r.status_code, r.json()["code"]) == (502, "evidence.damaged")

    former = root / second["sha256"][:2] / second["sha256"][2:]
    former.parent.mkdir(parents=True)
    (root / world.a.id / second["sha256"][:2] / second["sha256"][2:]).rename(former)
    assert client.get(f"/v1/evidence/{second['id']}/content", headers=headers).content == PNG
    former.unlink()
    r = client.get(f"/v1/evidence/{second['id']}/content", headers=headers)
    assert (r.status_code, r.json()["code"]) == (502, "evidence.damaged")


@pytest.mark.parametrize(
    ("evidence", "complaint"),
    [
        ({"backend": "s3", "master_key": generate_key_spec("e1")}, "POSREFUND_EVIDENCE__BUCKET is missing"),
        ({"backend": "s3", "bucket": "b"}, "POSREFUND_EVIDENCE__MASTER_KEY is missing"),
        ({"backend": "s3", "bucket": "b", "master_key": "e1:short"}, "POSREFUND_EVIDENCE__MASTER_KEY is not valid"),
    ],
)
def test_an_incomplete_object_store_setting_stops_start_up(
    settings: Settings, evidence: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint):
        bootstrap.build(settings.model_copy(update={"evidence": EvidenceSettings.model_validate(evidence)}))
