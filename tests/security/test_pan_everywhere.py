"""No card number is ever stored or logged, however it is written and wherever it is sent.

Hypothesis writes real card numbers (Luhn-valid, real scheme prefixes) in every form people and machines
produce: grouped with dots, single or double spaces, the ideographic space U+3000, no-break spaces,
zero-width spaces, dashes, full-width digits, Arabic-Indic digits, and mixtures of them. Each is sent
through one input channel of the real app (JSON body under both spellings of its media type, a form body, a
multipart field and a multipart file name, the query string, a path segment, the Idempotency-Key header, a
CLI argument) and must be refused with ``pan_detected``. Afterwards ``posrefund pii scan`` over the
database and the log file finds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import hypothesis
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st
from starlette.testclient import TestClient
from typer.testing import CliRunner

from posrefund.config import Settings
from posrefund.domain.pii import luhn_ok
from posrefund.entrypoints.cli.main import app as cli
from posrefund.service.deps import Deps
from tests.api.conftest import Auth
from tests.conftest import World
from tests.support.helpers import new_sale

REFUSAL = "pan_detected"
EXAMPLES = 60
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("env")

# Issuer prefixes and lengths: UnionPay 62 (16–19), Visa 4 (13, 16, 19), Mastercard 51–55 and 2221–2720,
# Amex 34/37 (15), JCB 35 (16), Discover 6011/65 (16).
SCHEMES: list[tuple[str, tuple[int, ...]]] = [
    ("62", (16, 17, 18, 19)),
    ("4", (13, 16, 19)),
    ("51", (16,)),
    ("55", (16,)),
    ("2221", (16,)),
    ("2720", (16,)),
    ("34", (15,)),
    ("37", (15,)),
    ("35", (16,)),
    ("6011", (16,)),
    ("65", (16,)),
]
SEPARATORS = {
    "none": "",
    "dot": ".",
    "space": " ",
    "double_space": "  ",
    "ideographic_space": "\u3000",
    "nbsp": "\u00a0",
    "zero_width_space": "\u200b",
    "dash": "-",
}
# Each script's zero; the nine digits after it follow in order.
SCRIPTS = {"ascii": "0", "fullwidth": "\uff10", "arabic_indic": "\u0660"}


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def write(pan: str, groups: list[int], seps: list[str], scripts: list[str]) -> str:
    """``pan`` cut into ``groups`` joined by ``seps``, each digit in the script ``scripts`` gives it."""
    digits = [chr(ord(SCRIPTS[scripts[i % len(scripts)]]) + int(d)) for i, d in enumerate(pan)]
    out, at = [], 0
    for i, size in enumerate(groups):
        out.append("".join(digits[at : at + size]))
        at += size
        if at < len(pan):
            out.append(seps[i % len(seps)])
    return "".join(out) + "".join(digits[at:])


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, lengths = draw(st.sampled_from(SCHEMES))
    length = draw(st.sampled_from(lengths))
    body = prefix + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - len(prefix) - 1,
                                          max_size=length - len(prefix) - 1)))  # fmt: skip
    return with_check_digit(body)


@st.composite
def written_card_numbers(draw: st.DrawFn) -> str:
    """A card number in one form throughout (4-4-4-4… with one separator, one script) or a mixture: groups of
    any size, a separator drawn per gap and a script per digit."""
    pan = draw(card_numbers())
    if draw(st.booleans()):
        sep, script = draw(st.sampled_from(sorted(SEPARATORS))), draw(st.sampled_from(sorted(SCRIPTS)))
        return write(pan, [4] * (len(pan) // 4), [SEPARATORS[sep]], [script])
    groups = draw(st.lists(st.integers(1, 6), min_size=1, max_size=len(pan)))
    seps = draw(st.lists(st.sampled_from(list(SEPARATORS.values())), min_size=1, max_size=len(pan)))
    scripts = draw(st.lists(st.sampled_from(sorted(SCRIPTS)), min_size=1, max_size=len(pan)))
    return write(pan, groups, seps, scripts)


# One of each pure form, always tried before the generated ones.
PURE_FORMS = [
    write("6222021234567890128", [4, 4, 4, 4, 3], [SEPARATORS[sep]], [script])
    for sep in sorted(SEPARATORS)
    for script in sorted(SCRIPTS)
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Channels:
    """Each way into the app, sending ``pan`` there; the answer is (status, error code)."""

    def __init__(self, client: TestClient, auth: Auth, deps: Deps, world: World) -> None:
        self.client, self.auth, self.world = client, auth, world
        self.sale_id = new_sale(deps, world.a).id
        self.sent = 0

    def refund(self, note: str = "") -> dict[str, Any]:
        return {"sale_id": self.sale_id, "amount_fen": 1, "reason": "customer_cancelled", "note": note}

    def key(self) -> dict[str, str]:
        self.sent += 1
        return self.auth("a.terminal", **{"Idempotency-Key": f"probe-{self.sent}"})

    def answer(self, r: Any) -> tuple[int, str]:
        try:
            code = str(r.json().get("code"))
        except ValueError:
            code = r.text[:80]
        return r.status_code, code

    def json(self, pan: str) -> tuple[int, str]:
        body = json.dumps(self.refund(pan), ensure_ascii=False).encode()
        headers = {**self.key(), "Content-Type": "application/json"}
        return self.answer(self.client.post("/v1/refunds", content=body, headers=headers))

    def json_mixed_case(self, pan: str) -> tuple[int, str]:
        body = json.dumps(self.refund(pan)).encode()  # non-ASCII as \u escapes
        headers = {**self.key(), "Content-Type": "Application/JSON"}
        return self.answer(self.client.post("/v1/refunds", content=body, headers=headers))

    def form(self, pan: str) -> tuple[int, str]:
        body = urlencode({k: str(v) for k, v in self.refund(pan).items()}).encode()
        headers = {**self.key(), "Content-Type": "application/x-www-form-urlencoded"}
        return self.answer(self.client.post("/v1/refunds", content=body, headers=headers))

    def multipart_field(self, pan: str) -> tuple[int, str]:
        files = {"file": ("receipt.png", PNG, "image/png")}
        r = self.client.post("/v1/evidence", files=files, data={"kind": pan}, headers=self.auth("a.cashier"))
        return self.answer(r)

    def multipart_filename(self, pan: str) -> tuple[int, str]:
        files = {"file": (f"{pan}.png", PNG, "image/png")}
        r = self.client.post("/v1/evidence", files=files, data={"kind": "receipt"}, headers=self.auth("a.cashier"))
        return self.answer(r)

    def query(self, pan: str) -> tuple[int, str]:
        return self.answer(self.client.get(f"/v1/refunds?q={quote(pan)}", headers=self.auth("a.cashier")))

    def path(self, pan: str) -> tuple[int, str]:
        return self.answer(self.client.get(f"/v1/refunds/{quote(pan, safe='')}", headers=self.auth("a.cashier")))

    def header(self, pan: str) -> tuple[int, str]:
        headers: dict[str, Any] = {**self.auth("a.terminal"), "Idempotency-Key": pan.encode("utf-8")}
        return self.answer(self.client.post("/v1/refunds", json=self.refund(), headers=headers))

    def cli_argument(self, pan: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["merchant", "create", "--name", f"商户 {pan}", "--json"])
        code = REFUSAL if REFUSAL in result.output else result.output[-80:]
        return (200 if result.exit_code == 0 else 422), code  # refused: any failing exit status, with the code


CHANNELS = [
    "json",
    "json_mixed_case",
    "form",
    "multipart_field",
    "multipart_filename",
    "query",
    "path",
    "header",
    "cli_argument",
]


def scan_finds(settings: Settings) -> Any:
    result = runner.invoke(cli, ["pii", "scan", "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def probe_with_every_form(send: Callable[[str], tuple[int, str]]) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(written_card_numbers())
    def refused(pan: str) -> None:
        status, code = send(pan)
        assert 400 <= status < 500 and code == REFUSAL, (ascii(pan), status, code)

    for form in reversed(PURE_FORMS):
        refused = example(form)(refused)
    refused()


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_card_number_in_any_form_is_refused_and_kept_nowhere(
    client: TestClient, auth: Auth, deps: Deps, world: World, settings: Settings, channel: str
) -> None:
    channels = Channels(client, auth, deps, world)
    probe_with_every_form(getattr(channels, channel))
    report = scan_finds(settings)
    assert report["counts"] == {"pan": 0, "phone": 0, "id_no": 0}, report["findings"][:5]
