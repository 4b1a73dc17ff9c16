"""``posrefund pii scan`` finds a card number, a mobile number in clear and an ID number in clear wherever
they were planted (a table row, an audit event's JSON, the log file, an evidence photo, a PDF's compressed
text), shows each masked and exits 1; a clean or freshly seeded database exits 0."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.pii_sweep import DatabaseTexts
from posrefund.config import Settings
from posrefund.entrypoints.cli.main import app
from posrefund.service import evidence
from posrefund.service.deps import Deps
from tests.conftest import World

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("env")
PAN_FORMS = {
    "plain": "6222021234567890128",
    "spaced": "4111 1111 1111 1111",
    "dashed": "5500-0000-0000-0004",
    "fullwidth_ideographic_spaced": "６２２２\u3000０２１２\u3000３４５６\u3000７８９０\u3000１２８",
    "arabic_indic": "٤١١١١١١١١١١١١١١١",
    "zero_width_dotted": "5500\u200b.0000\u200b.0000\u200b.0004",
}
MASKED_PANS = {
    "plain": "622202*********0128",
    "spaced": "411111******1111",
    "dashed": "550000******0004",
    "fullwidth_ideographic_spaced": "622202*********0128",
    "arabic_indic": "411111******1111",
    "zero_width_dotted": "550000******0004",
}
PHONE, MASKED_PHONE = "13812345678", "138****5678"
ID_NO, MASKED_ID_NO = "11010519491231002X", "110***********002X"


def scan(*extra: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["pii", "scan", "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def found(report: Any) -> set[tuple[str, str, str]]:
    """(kind, where, masked) of every finding, where as ``table.column`` or the file's name."""
    out = set()
    for f in report["findings"]:
        w = f["where"]
        where = f"{w['table']}.{w['column']}" if "table" in w else w["file"].rsplit("/", 1)[-1]
        out.add((f["kind"], where, f["masked"]))
    return out


def execute(settings: Settings, sql: str, **params: Any) -> None:
    eng = make_engine(settings.database_url)
    with eng.begin() as c:
        c.execute(text(sql), params)
    eng.dispose()


@pytest.mark.parametrize("form", sorted(PAN_FORMS))
def test_a_card_number_in_a_table_row_is_found_masked(settings: Settings, world: World, form: str) -> None:
    execute(
        settings, "UPDATE stores SET address = :a WHERE id = :i", a=f"卡号 {PAN_FORMS[form]} 门口", i=world.a.store_id
    )
    code, report = scan("--no-files")
    assert code == 1
    assert found(report) == {("pan", "stores.address", MASKED_PANS[form])}
    assert report["findings"][0]["where"]["key"] == {"id": world.a.store_id}
    assert report["counts"] == {"pan": 1, "phone": 0, "id_no": 0}


def test_a_clear_phone_in_a_table_row_is_found_masked(settings: Settings, world: World) -> None:
    execute(settings, "UPDATE stores SET name = :n WHERE id = :i", n=f"一号店 顾客手机{PHONE}", i=world.a.store_id)
    code, report = scan("--no-files")
    assert code == 1 and found(report) == {("phone", "stores.name", MASKED_PHONE)}


def test_a_clear_id_number_in_a_table_row_is_found_masked(settings: Settings, world: World) -> None:
    execute(settings, "UPDATE terminals SET device_sn = :s WHERE id = :i", s=ID_NO, i=world.a.terminal_id)
    code, report = scan("--no-files")
    assert code == 1 and found(report) == {("id_no", "terminals.device_sn", MASKED_ID_NO)}


def test_a_card_number_escaped_in_an_audit_events_json_is_found(settings: Settings, world: World) -> None:
    escaped = json.dumps({"note": "card " + PAN_FORMS["spaced"]})  # ensure_ascii: plain, so escape a digit
    escaped = escaped.replace("4111", "\\u0034111", 1)
    execute(settings, "UPDATE audit_events SET data = :d WHERE id = (SELECT min(id) FROM audit_events)", d=escaped)
    code, report = scan("--no-files")
    assert code == 1 and found(report) == {("pan", "audit_events.data", MASKED_PANS["spaced"])}


def test_everything_planted_in_the_log_file_is_found_masked(settings: Settings, world: World) -> None:
    assert settings.log_file is not None
    lines = [
        '{"event": "request", "level": "info"}',
        json.dumps({"event": "oops", "card": PAN_FORMS["dashed"], "phone": PHONE}, ensure_ascii=False),
        json.dumps({"event": "kyc", "id_no": ID_NO, "card": PAN_FORMS["plain"]}),
    ]
    settings.log_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report = scan("--no-db")
    assert code == 1
    assert found(report) == {
        ("pan", "posrefund.log", MASKED_PANS["dashed"]),
        ("phone", "posrefund.log", MASKED_PHONE),
        ("id_no", "posrefund.log", MASKED_ID_NO),
        ("pan", "posrefund.log", MASKED_PANS["plain"]),
    }
    assert sorted(f["where"]["line"] for f in report["findings"]) == [2, 2, 3, 3]
    assert report["findings"][0]["where"]["offset"] == len(lines[0]) + 1


def test_track_data_in_the_log_is_found_and_shows_no_digit_past_the_first_six(settings: Settings) -> None:
    assert settings.log_file is not None
    settings.log_file.write_text(json.dumps({"swipe": ";4111111111111111=25121010000000000?"}) + "\n")
    code, report = scan("--no-db")
    assert code == 1 and report["counts"]["pan"] == 1
    assert report["findings"][0]["masked"] == "411111" + "*" * 27


def test_a_rotated_log_file_and_one_named_on_the_command_line_are_read_too(settings: Settings, tmp_path: Path) -> None:
    assert settings.log_file is not None
    rotated = settings.log_file.with_name(settings.log_file.name + ".1")
    rotated.write_text(json.dumps({"event": "old", "phone": PHONE}) + "\n", encoding="utf-8")
    elsewhere = tmp_path / "nginx-access.log"
    elsewhere.write_text(f"GET /v1/refunds?q={PAN_FORMS['plain']} 200\n", encoding="utf-8")
    code, report = scan("--no-db", "--log-file", str(elsewhere))
    assert code == 1
    assert found(report) == {
        ("phone", "posrefund.log.1", MASKED_PHONE),
        ("pan", "nginx-access.log", MASKED_PANS["plain"]),
    }


def test_everything_planted_in_an_evidence_photo_is_found_masked(settings: Settings, world: World, deps: Deps) -> None:
    content = b"\x89PNG\r\n\x1a\n\x00\x01\xfe" + f"tEXt {PAN_FORMS['spaced']} {PHONE}\n{ID_NO}\xff".encode("latin-1")
    row = evidence.upload(deps, world.a.actors["cashier"], content=content, filename="receipt.png", kind="receipt")
    code, report = scan("--no-db")
    assert code == 1
    name = row["sha256"][2:]
    assert found(report) == {
        ("pan", name, MASKED_PANS["spaced"]),
        ("phone", name, MASKED_PHONE),
        ("id_no", name, MASKED_ID_NO),
    }


def test_a_card_number_in_a_pdfs_compressed_text_is_found(settings: Settings, world: World, deps: Deps) -> None:
    stream = zlib.compress(f"BT /F1 12 Tf (Card {PAN_FORMS['plain']}) Tj ET".encode())
    content = b"%PDF-1.4\n1 0 obj << /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream\nendobj\n%%EOF\n"
    evidence.upload(deps, world.a.actors["cashier"], content=content, filename="record.pdf", kind="receipt")
    code, report = scan("--no-db")
    assert code == 1 and report["counts"] == {"pan": 1, "phone": 0, "id_no": 0}
    assert report["findings"][0]["where"]["stream"] == 1 and report["findings"][0]["masked"] == MASKED_PANS["plain"]


def test_the_human_output_shows_only_masked_values(settings: Settings, world: World) -> None:
    execute(
        settings, "UPDATE stores SET address = :a WHERE id = :i", a=f"{PAN_FORMS['plain']} {PHONE}", i=world.a.store_id
    )
    result = runner.invoke(app, ["pii", "scan"])
    assert result.exit_code == 1
    assert MASKED_PANS["plain"] in result.stdout and MASKED_PHONE in result.stdout
    assert PAN_FORMS["plain"] not in result.stdout and PHONE not in result.stdout


def test_a_clean_database_and_log_scan_clean(settings: Settings, world: World) -> None:
    code, report = scan()
    assert code == 0 and report["clean"] is True and report["counts"] == {"pan": 0, "phone": 0, "id_no": 0}
    assert report["scanned"] > 50


def test_a_freshly_seeded_demo_database_scans_clean(settings: Settings) -> None:
    seeded = runner.invoke(app, ["demo", "--json"])
    assert seeded.exit_code == 0, seeded.output
    code, report = scan()
    assert report["findings"] == [] and code == 0


def test_the_scan_is_audited_with_counts_only(settings: Settings, world: World) -> None:
    execute(settings, "UPDATE stores SET address = :a WHERE id = :i", a=PAN_FORMS["plain"], i=world.a.store_id)
    assert scan("--no-files")[0] == 1
    eng = make_engine(settings.database_url)
    with eng.connect() as c:
        row = c.execute(text("SELECT actor_id, data FROM audit_events WHERE action = 'pii.scanned'")).one()
    eng.dispose()
    data = json.loads(row.data)
    assert row.actor_id == "cli" and data["found"] == {"pan": 1, "phone": 0, "id_no": 0}
    assert data["looked_at"] == ["database"] and PAN_FORMS["plain"] not in row.data


def test_an_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["pii", "scan", "--no-such-option"])
    assert result.exit_code == 2 and "No such option: --no-such-option" in result.output


def test_a_card_number_in_a_stored_answer_body_is_found_by_its_composite_key(settings: Settings, world: World) -> None:
    body = json.dumps({"note": PAN_FORMS["plain"]}).encode()
    execute(
        settings,
        "INSERT INTO idempotency (scope, key, request_hash, status_code, body, created_at) "
        "VALUES ('s1', 'k1', :h, 201, :b, CURRENT_TIMESTAMP)",
        h="0" * 64,
        b=body,
    )
    code, report = scan("--no-files")
    assert code == 1 and found(report) == {("pan", "idempotency.body", MASKED_PANS["plain"])}
    assert report["findings"][0]["where"]["key"] == {"scope": "s1", "key": "k1"}


def test_small_batches_read_every_text_cell_exactly_once(settings: Settings, world: World) -> None:
    eng = make_engine(settings.database_url)
    every = list(DatabaseTexts(eng, batch=10_000))
    batched = list(DatabaseTexts(eng, batch=3))
    eng.dispose()
    assert len(every) > 100
    assert sorted(map(repr, batched)) == sorted(map(repr, every))
