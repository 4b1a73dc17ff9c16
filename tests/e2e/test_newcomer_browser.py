"""A newcomer follows the README and nothing else: runs the command it gives (``scripts/serve``, what
``make serve`` runs), opens the address it names, signs in as the operator it names with the password it
gives, and takes the refund its "Try it" steps describe from request to money back, pressing the buttons
by the names the README prints.

Every value comes from the README itself, so a README that drifts from the product fails here: a renamed
button, a demo voucher that no longer exists, a password that changed, a step that no longer leads on."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM, screenshot, watched_page
from tests.support.demo_serve import stop, wait_ready
from tests.support.ports import free_port

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"


@dataclass(frozen=True)
class TryIt:
    """What the README's "Try it" section tells a newcomer to do."""

    command: str
    address: str
    password: str
    user: str
    voucher: str
    amount: str
    reason: str
    start_button: str
    submit_button: str
    answer: str
    open_case: str
    paid: str
    phone: str
    phone_field: str
    sign_out: str
    inbox_user: str
    inbox: str
    masked_phone: str


def _one(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.S)
    assert found, f"the README no longer says {pattern!r}"
    return found.group(1)


def read_the_readme() -> TryIt:
    text = README.read_text(encoding="utf-8")
    first_block = _one(r"```sh\n(.*?)```", text)
    section = _one(r"## Try it\n(.*?)\n## ", text)
    steps = _one(r"A first refund.*?\n\n(1\..*?)\n\n[A-Z]", section)
    return TryIt(
        command=_one(r"^(make serve)\b", first_block.strip()),
        address=_one(r"open \*\*(http://[^*]+)\*\*", section),
        password=_one(r"the password\s+`([^`]+)`", section),
        user=_one(r"Sign in as `([^`]+)`", steps),
        voucher=_one(r"voucher number `([^`]+)`", steps),
        amount=_one(r"amount to `([^`]+)`", steps),
        reason=_one(r"reason \*\*([^*]+)\*\*", steps),
        start_button=_one(r"3\. Press \*\*([^*]+)\*\*", steps),
        submit_button=_one(r"and press\s+\*\*([^*]+)\*\*", steps),
        answer=_one(r"the answer is \*\*([^*]+)\*\*", steps),
        open_case=_one(r"4\..*?Press\s+\*\*([^*]+)\*\*", steps),
        paid=_one(r"turns to \*\*([^*]+)\*\*", steps),
        phone=_one(r"mobile number `([^`]+)`", steps),
        phone_field=_one(r"mobile number `[^`]+` in \*\*([^*]+)\*\*", steps),
        sign_out=_one(r"5\..*?Press \*\*([^*]+)\*\*", steps),
        inbox_user=_one(r"sign in as `([^`]+)`", steps),
        inbox=_one(r"open \*\*([^*]+)\*\* in the menu", steps),
        masked_phone=_one(r"the texts to `([^`]+)`", steps),
    )


@dataclass(frozen=True)
class Served:
    base: str  # the README's address, on the port this test gave the service
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``scripts/serve`` as ``make serve`` runs it, on free ports, its secrets, database and files in a
    folder of its own instead of the checkout's (the same script; only where it writes differs)."""
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("chromium not installed (scripts/browser installs it)")
    home = tmp_path_factory.mktemp("newcomer")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POSREFUND_")},
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "POSREFUND_ENV_FILE": str(home / "posrefund.env"),
        "POSREFUND_DATABASE_URL": f"sqlite:///{home / 'posrefund.db'}",
        "POSREFUND_DATA_DIR": str(home / "data"),
        "POSREFUND_SIM_WECHAT_PORT": str(free_port()),
        "POSREFUND_SIM_ALIPAY_PORT": str(free_port()),
        "POSREFUND_SIM_ACQUIRER_PORT": str(free_port()),
    }
    log = home / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "serve")], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, log, 240, "`make serve`")
        yield Served(base, log)
    finally:
        stop(proc)


def test_the_readme_takes_a_newcomer_from_request_to_money_back(chromium: Browser, served: Served) -> None:
    readme = read_the_readme()
    assert readme.command == "make serve"
    banner = served.log.read_text()
    assert f"{served.base}/console/" in banner and readme.user in banner  # `make serve` says where and who
    assert f"{served.base}/console/notify/demo-inbox" in banner  # and where the customers' texts are
    address = readme.address.replace("http://127.0.0.1:8000", served.base)
    shots = Path(os.environ.get("POSREFUND_SCREENSHOT_DIR") or served.log.parent)
    with watched_page(chromium, {"width": 390, "height": 844}, timeout_ms=20_000) as page:
        page.goto(address)
        expect(page).to_have_url(re.compile(r"/console/login"))
        page.fill("#f-username", readme.user)
        page.fill("#f-password", readme.password)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/console/**")
        page.fill("#top-q", readme.voucher)
        page.press("#top-q", "Enter")
        expect(page).to_have_url(re.compile(r"/console/sales/\w+$"))
        page.get_by_role("link", name=readme.start_button).click()
        page.fill("#f-amount", readme.amount)
        page.get_by_label(readme.phone_field, exact=True).fill(readme.phone)
        page.get_by_label("退款原因").select_option(label=readme.reason)
        page.get_by_role("button", name=readme.submit_button).click()
        expect(page.get_by_role("heading", name=readme.answer)).to_be_visible()
        screenshot(page, shots / "57-newcomer-answer-390.png")
        page.get_by_role("link", name=readme.open_case).click()
        expect(page.locator("#live [data-status]")).to_have_attribute("data-status", "succeeded", timeout=60_000)
        expect(page.locator("#live")).to_contain_text(readme.paid)
        screenshot(page, shots / "58-newcomer-paid-390.png")
        _reads_the_texts(page, readme, shots)


def _reads_the_texts(page: Page, readme: TryIt, shots: Path) -> None:
    """Step 5: customer service opens the demo's SMS inbox and finds the customer told of every step, the
    refund's payment last (the worker sends it within a few seconds of the payment: the page is reloaded)."""
    page.get_by_role("button", name=readme.sign_out).click()
    page.wait_for_url("**/console/login**")
    page.fill("#f-username", readme.inbox_user)
    page.fill("#f-password", readme.password)
    page.click("button[type=submit].primary")
    page.get_by_role("link", name=readme.inbox, exact=True).click()
    texts = page.locator("tr[data-message]").filter(has_text=readme.masked_phone)
    deadline = time.monotonic() + 30
    while texts.filter(has_text="已退款").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    expect(texts).to_have_count(3)  # accepted, approved, refunded: each once
    expect(texts.first).to_contain_text("已退款")
    assert readme.phone not in page.content()
    screenshot(page, shots / "59-newcomer-sms-inbox-390.png")
