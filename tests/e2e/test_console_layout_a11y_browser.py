"""Every console page, for every role that has pages, on a phone (360 and 390 px) and a small tablet (768 px):
nothing wider than the screen, no sideways scrolling of the document, and no serious or critical WCAG 2.1 AA
violation found by axe-core (bundled by axe-playwright-python, no network).

The pages are the console's GET routes (``test_every_console_page_is_listed`` keeps the list complete), each
filled with one real refund, sale, dispute, reconciliation run, discrepancy and wrong-charge case; a role
visits the pages its permissions allow in one browser context, each page loaded once and resized to each width
(media queries apply as on a real phone), axe-core run once per page at 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from posrefund.demo.settlement import Faults, from_ledger
from posrefund.domain.fees import FeePeriod, FeeRule
from posrefund.domain.reconciliation import FeeRate
from posrefund.domain.roles import PERMISSIONS, Role
from posrefund.domain.sale_items import numbered
from posrefund.entrypoints.console import PAGES
from posrefund.entrypoints.console.session import LANG_COOKIE
from posrefund.service import disputes, refunds, sales
from posrefund.service.fees.contracts import add_period
from posrefund.service.fees.payouts import check_overcharges
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.e2e.conftest import Live, sign_in, watched_page
from tests.e2e.risk_seed import late_refunds
from tests.e2e.test_console_deposits_browser import double_returned
from tests.e2e.test_console_holds_browser import held_for_the_walk
from tests.e2e.test_console_notifications_browser import paid_case
from tests.e2e.test_provider_returns_browser import a_desk, opened_for, sign_in_as
from tests.support.helpers import captured_again, sale_input
from tests.support.plain_language import problems_in_chinese

ROOT = Path(__file__).parents[2]
WIDTHS = (360, 390, 768)
PHONES = WIDTHS[:2]
AXE_WIDTH = 390  # colours, names and structure do not change with the width: axe runs once per page and role
ROLES = ("cashier", "supervisor", "finance", "admin", "auditor", "risk")
PROVIDER_ROLES = ("provider_admin", "provider_operations", "provider_finance", "provider_risk", "provider_service")
WALK_SN = "SN-WALK01"
HEIGHT = 844
WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],  # passes and the rest are not sent back: much less to carry per page
}
BLOCKING = ("serious", "critical")

# Detail pages of the desks whose objects only their own walks make (a provider's return, a fee-refund case,
# a counted till): each is opened by the browser test named, at a phone's width.
WALKED_ELSEWHERE = {
    "/console/provider/returns/{return_id}": "tests/e2e/test_provider_returns_browser.py",
    "/console/till/{till_id}": "tests/e2e/test_recon_desk_browser.py",
    # only while the demo's SMS gateway runs (``serve --with-simulators``)
    "/console/notify/demo-inbox": "tests/e2e/test_demo_inbox_browser.py",
}

# GET routes that are not pages a person reads: fragments htmx polls, downloads, redirects.
NOT_PAGES = {
    "/",
    "/console",
    "/console/",
    "/console/lang",
    "/console/cases/{case_id}/live",
    "/console/cases/{case_id}/hold",
    "/console/evidence/{evidence_id}",
    "/console/recon/jobs/{job_id}/progress",
    "/console/recon/runs/{run_id}/export.csv",
    "/console/reports/export.csv",
    "/console/reports/summary.pdf",
    "/console/cases/{case_id}/bank-application/{application_id}/form.pdf",
    "/console/provider/terminals/{sn}/return-form",  # the printable form, outside the console's frame
    "/console/provider/returns/{return_id}/documents/{evidence_id}",
}

# Every element whose right edge passes the viewport, unless it sits inside a box that scrolls sideways on
# purpose (overflow-x: auto or scroll); the first few, named by tag, id and classes.
WIDE_ELEMENTS = r"""() => {
  const width = window.innerWidth;
  const scrollsInside = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + [...el.classList].map(c => '.' + c).join('');
  const sticksOut = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > width + 1 && !scrollsInside(el);
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!sticksOut(el) || sticksOut(el.parentElement)) continue;  // only where the overflow starts
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 30);
    wide.push(`${name(el)} (right ${Math.round(el.getBoundingClientRect().right)}px) "${text}"`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 12)};
}"""


# The text a person reads on the page, without what is not in the page's language on purpose: content marked
# as another language (an English notification template), text marked not to translate (a template's
# placeholders as the admin typed them), code; hidden elements skipped.
READ_TEXT = r"""() => {
  const skip = '[lang]:not([lang^="zh"]), [translate="no"], code, pre, textarea, script, style, template';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    parts.push(n.textContent);
  }
  return parts.join(' ');
}"""

# A part htmx fetches once the page is up (hx-trigger="load") has come in: it brings its own heading.
LOADED = "[...document.querySelectorAll('[hx-trigger=load]')].every(e => e.querySelector('h2'))"


@dataclass(frozen=True)
class Seeded:
    """One of each thing a detail page shows, in merchant A."""

    sale_id: str
    pending_case_id: str
    paid_case_id: str
    dispute_id: str
    import_job: str
    file_id: str
    run_id: str
    discrepancy_id: str
    wrong_charge_id: str
    alert_id: str = "x"
    payout_id: str = "x"
    deposit_id: str = "x"
    hold_id: str = "x"
    provider_merchant_id: str = "x"  # a merchant of the provider whose staff walk the desk's pages


@dataclass(frozen=True)
class ConsolePage:
    route: str  # the route's path template, as the console registers it
    path: str  # the page visited
    action: str | None  # the permission a role needs to reach it (None: any signed-in operator)


def console_pages(s: Seeded) -> list[ConsolePage]:
    P = ConsolePage
    return [
        P("/console/desk", "/console/desk", "refund.request"),
        P("/console/desk/sale/{sale_id}", f"/console/desk/sale/{s.sale_id}", "refund.request"),
        P("/console/desk/answer/{case_id}", f"/console/desk/answer/{s.pending_case_id}", "refund.request"),
        P("/console/mine", "/console/mine", "refund.request"),
        P("/console/review", "/console/review", "refund.review"),
        P("/console/cases/{case_id}", f"/console/cases/{s.pending_case_id}", "refund.read"),
        P("/console/cases/{case_id}", f"/console/cases/{s.paid_case_id}", "refund.read"),
        P("/console/cases/{case_id}/notify", f"/console/cases/{s.paid_case_id}/notify", "notify.read"),
        P("/console/search", "/console/search?q=5678", "refund.read"),
        P("/console/sales/{sale_id}", f"/console/sales/{s.sale_id}", "sale.read"),
        P("/console/service", "/console/service?phone=13912345678", "refund.reveal_pii"),
        P("/console/reports", "/console/reports", "report.read"),
        P("/console/reports/summary", "/console/reports/summary?period=2026-11", "report.read"),
        P(
            "/console/cases/{case_id}/bank-application",
            f"/console/cases/{s.pending_case_id}/bank-application",
            "bank_application.read",
        ),
        P("/console/admin/stores", "/console/admin/stores", "store.manage"),
        P("/console/admin/terminals", "/console/admin/terminals", "terminal.manage"),
        P("/console/admin/users", "/console/admin/users", "user.manage"),
        P("/console/admin/policy", "/console/admin/policy", "policy.read"),  # a form for admins, read-only for staff
        P("/console/admin/notify", "/console/admin/notify", "notify.configure"),
        P(
            "/console/admin/notify/templates/{event}/{language}",
            "/console/admin/notify/templates/paid/zh",
            "notify.configure",
        ),
        P("/console/admin/notify/gateways", "/console/admin/notify/gateways", "notify.configure"),
        P("/console/followups", "/console/followups", "followup.read"),
        P("/console/disputes", "/console/disputes", "dispute.read"),
        P("/console/disputes/{dispute_id}", f"/console/disputes/{s.dispute_id}", "dispute.read"),
        P("/console/recon", "/console/recon", "recon.read"),
        P("/console/recon/jobs/{job_id}", f"/console/recon/jobs/{s.import_job}", "recon.read"),
        P("/console/recon/files/{file_id}", f"/console/recon/files/{s.file_id}", "recon.read"),
        P("/console/recon/runs/{run_id}", f"/console/recon/runs/{s.run_id}", "recon.read"),
        P(
            "/console/recon/discrepancies/{discrepancy_id}",
            f"/console/recon/discrepancies/{s.discrepancy_id}",
            "recon.read",
        ),
        P("/console/recon/wrong-charges/{wc_id}", f"/console/recon/wrong-charges/{s.wrong_charge_id}", "recon.read"),
        P("/console/password", "/console/password", None),
        P("/console/cases/{case_id}/slip", f"/console/cases/{s.pending_case_id}/slip?paper=58", "refund.slip"),
        P("/console/cases/{case_id}/slip", f"/console/cases/{s.pending_case_id}/slip", "refund.slip"),
        P("/console/audit", "/console/audit", "audit.browse"),
        P("/console/fees", "/console/fees", "fees.read"),
        P("/console/fees/payouts/{payout_id}", f"/console/fees/payouts/{s.payout_id}", "fees.read"),
        P("/console/till", "/console/till", "till.read"),
        P("/console/provider/returns", "/console/provider/returns", "device_return.read"),
        P("/console/provider", "/console/provider", "provider.dashboard"),
        P("/console/provider/breaches", "/console/provider/breaches", "provider.dashboard"),
        P("/console/provider/terminals", "/console/provider/terminals", "provider.terminal.read"),
        P("/console/provider/new-return", "/console/provider/new-return", "device_return.open"),
        P("/console/provider/merchants", "/console/provider/merchants", "provider.merchants.read"),
        P(
            "/console/provider/merchants/{merchant_id}",
            f"/console/provider/merchants/{s.provider_merchant_id}",
            "provider.refunds.read",
        ),
        P("/console/recon/mappings", "/console/recon/mappings", "recon.read"),
        P("/console/home", "/console/home", None),
        P("/console/reports/charts", "/console/reports/charts", "report.read"),
        P("/console/reports/drill", "/console/reports/drill?by=day&key=2026-11-20", "report.read"),
        P("/console/risk", "/console/risk", "risk.read"),
        P("/console/risk/alerts/{alert_id}", f"/console/risk/alerts/{s.alert_id}", "risk.read"),
        P("/console/deposits", "/console/deposits", "deposit.read"),
        P("/console/deposits/terms", "/console/deposits/terms", "deposit.read"),
        P("/console/deposits/{deposit_id}", f"/console/deposits/{s.deposit_id}", "deposit.read"),
        P("/console/holds/{hold_id}", f"/console/holds/{s.hold_id}", "hold.read"),
        P("/console/holds/new", "/console/holds/new", "hold.record"),
    ]


def reachable(role: str, pages: list[ConsolePage]) -> list[ConsolePage]:
    return [p for p in pages if p.action is None or Role(role) in PERMISSIONS[p.action]]


def _reconciled(page: Page, live: Live, bill: Path) -> tuple[str, str, str, str, str]:
    """Finance imports the day's WeChat bill, runs it, opens a wrong-charge case from the duplicate charge:
    (the import job, the file, the run, the discrepancy, the wrong-charge case)."""
    sign_in(page, live, "a.finance")
    page.goto(live.url("/console/recon"))
    page.select_option("#f-import-source", "wechat")
    page.set_input_files("#f-file", str(bill))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text("导入完成")).to_be_visible()
    job = page.url.rsplit("/", 1)[1]
    file_id = str(page.locator("a[href*='/console/recon/files/']").first.get_attribute("href")).rsplit("/", 1)[1]
    page.get_by_role("button", name="对这些日期运行对账").click()
    expect(page.get_by_text("对账完成")).to_be_visible()
    page.get_by_role("link", name="查看对账结果").click()
    expect(page).to_have_url(re.compile(r"/console/recon/runs/[\w-]+$"))
    run_id = page.url.rsplit("/", 1)[1]
    page.goto(page.url + "?class=duplicate_charge")
    page.locator("table a[href*='/console/recon/discrepancies/']").first.click()
    discrepancy_id = page.url.rsplit("/", 1)[1]
    page.select_option("#f-cause", "operator_error")
    page.select_option("#f-responsible", "merchant_staff")
    page.fill("#f-analysis", "收银员重复扫码，顾客被扣两次")
    page.get_by_role("button", name="开立工单").click()
    expect(page).to_have_url(re.compile(r"/console/recon/wrong-charges/[\w-]+$"))
    return job, file_id, run_id, discrepancy_id, page.url.rsplit("/", 1)[1]


def _duplicate_charge_bill(live: Live, folder: Path) -> Path:
    """Today's WeChat bill of merchant A with one sale captured twice."""
    m, deps = live.world.a, live.deps
    first = sales.record_sale(deps, m.actors["cashier"], sale_input(m, deps.clock.now(), amount_fen=5_000))
    day = deps.local_date(first.paid_at)
    with deps.uow(readonly=True) as uow:
        rows = list(uow.ledger.ledger_sales(m.id, ["wechat"], day, day))
    rows.append(captured_again(next(r for r in rows if r["id"] == first.id)))
    bill = folder / f"wechat-{day}.csv"
    from_ledger(bill, "wechat", day, rows, [], Faults(), {"wechat": FeeRate("wechat", 38)})
    return bill


def _fee_refund_case(live: Live) -> str:
    """A fee-refund case of merchant A: its contract says 0.30 % for WeChat, the imported bill charged 0.38 %."""
    a, deps = live.world.a, live.deps
    day = deps.local_date(deps.clock.now())
    rule = FeeRule(channel="wechat", card_type="any", rate_ppm=3_000)
    add_period(
        deps,
        a.actors["finance"],
        a.id,
        FeePeriod(effective_from=day - timedelta(days=90), rules=(rule,), consented_on=day - timedelta(days=90)),
    )
    case, _lines = check_overcharges(deps, a.actors["finance"], a.id, day - timedelta(days=30), day)
    assert case is not None
    return str(case.id)


@pytest.fixture(scope="module")
def seeded(chromium: Browser, live: Live, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    a, deps = live.world.a, live.deps
    paid = paid_case(live)
    dispute = disputes.open_dispute(deps, a.actors["customer_service"], paid, "金额不对，少退了 20 元", 2_000)
    lines = numbered((("羊绒大衣", 1, 300_000, None), ("真丝围巾", 2, 44_400, None)))
    sale = sales.record_sale(
        deps, a.actors["cashier"], sale_input(a, deps.clock.now(), amount_fen=388_800, items=lines)
    )
    request = RefundRequest(
        sale_id=sale.id,
        amount_fen=0,
        items=((2, 1),),  # one scarf: the refund form and sale page show the lines, the case and slip the unit
        reason="goods_quality",
        note="包装破损",
        customer=CustomerInput(phone="13912345678", name="张三"),
    )
    pending = refunds.request_refund(deps, a.actors["cashier"], request)
    bill = _duplicate_charge_bill(live, tmp_path_factory.mktemp("bills"))
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        recon = _reconciled(context.new_page(), live, bill)
    finally:
        context.close()
    alert_id, _ = late_refunds(live)
    payout_id = _fee_refund_case(live)
    deposit_id = double_returned(live)
    hold_id = held_for_the_walk(live)
    return Seeded(sale.id, pending.id, paid, str(dispute["id"]), *recon, alert_id, payout_id, deposit_id, hold_id)


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _names(live: Live) -> frozenset[str]:
    """What people named themselves and their things (user names, terminal numbers): shown as typed."""
    world = live.world
    return frozenset(n for m in (world.a, world.b) for n in (*m.usernames.values(), "A01", "B01", "SNA", "SNB"))


def _problems(page: Page, axe: Axe, path: str, names: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with the loaded page, in words a failure message can show: words a Chinese reader
    should not meet (raw codes, fen, English), axe-core's findings (at ``AXE_WIDTH``), then the fit at each
    width (the same page resized: media queries apply as on a phone)."""
    found = [f"{path}: {p}" for p in problems_in_chinese(page.evaluate(READ_TEXT), names)]
    return found + _problems_of_layout(page, axe, path)


def _visit(page: Page, live: Live, path: str, expected: int = 200) -> str | None:
    response = page.goto(live.url(path))
    if response is None or response.status != expected:
        return f"{path}: answered {response.status if response else 'nothing'}, not {expected}"
    page.wait_for_function(LOADED)  # a section htmx loads with the page (the case's notifications) is in
    return None


@pytest.fixture
def screen(chromium: Browser) -> Iterator[Page]:
    """A phone-sized page (resized per width), failing the test on any Content-Security-Policy breach."""
    with watched_page(chromium, {"width": AXE_WIDTH, "height": HEIGHT}, timeout_ms=15_000) as page:
        yield page


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_fits_the_screen_and_passes_axe(
    screen: Page, live: Live, seeded: Seeded, axe: Axe, role: str
) -> None:
    pages = reachable(role, console_pages(seeded))
    sign_in(screen, live, f"a.{role}")
    menu = screen.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
    listed = {p.path.split("?")[0] for p in pages}
    assert set(menu) <= listed, f"menu links of {role} not checked: {set(menu) - listed}"
    problems: list[str] = []
    for p in pages:
        refused = _visit(screen, live, p.path)
        problems += [refused] if refused else _problems(screen, axe, p.path, _names(live))
    assert not problems, f"{role}: {len(problems)} problems\n" + "\n".join(problems)


# A page an English reader gets still says some things in Chinese: what people typed (names, reasons), the
# templates' Chinese examples. It must say nothing the English switch forgot: these are the console's words.
FORGOTTEN_CHINESE = re.compile(r"退款|审核|批准|提交|金额|商户|门店|收银|主管|查找|确认")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_role_in_english_passes_axe_and_fits(
    screen: Page, live: Live, seeded: Seeded, axe: Axe, role: str
) -> None:
    """The same pages with the language switch on English (``lang="en"`` on the document): axe-core's
    contrast, names and structure checks, the fit at each width, and no console word left in Chinese in the
    header or the page's headings, buttons and labels."""
    pages = reachable(role, console_pages(seeded))
    sign_in(screen, live, f"a.{role}")
    screen.context.add_cookies([{"name": LANG_COOKIE, "value": "en", "url": live.url("/console/")}])
    problems: list[str] = []
    for p in pages:
        refused = _visit(screen, live, p.path)
        if refused:
            problems.append(refused)
            continue
        if screen.get_attribute("html", "lang") != "en":
            problems.append(f"{p.path}: not marked English")
        chrome = screen.eval_on_selector_all(
            "header nav a, main h1, main h2, main button, main label, main th",
            "els => els.filter(e => !e.closest('[lang]:not(html)') && !e.closest('[translate=no]'))"
            ".map(e => e.innerText)",
        )
        problems += [f"{p.path}: left in Chinese: {t!r}" for t in chrome if FORGOTTEN_CHINESE.search(t)]
        problems += _problems_of_layout(screen, axe, p.path, PHONES)  # longer words push phones, not tablets
    assert not problems, f"{role} (English): {len(problems)} problems\n" + "\n".join(problems)


def _problems_of_layout(page: Page, axe: Axe, path: str, widths: tuple[int, ...] = WIDTHS) -> list[str]:
    """axe-core's serious and critical findings at ``AXE_WIDTH`` and the fit at each of ``widths``."""
    found: list[str] = []
    page.set_viewport_size({"width": AXE_WIDTH, "height": HEIGHT})
    for v in axe.run(page, options=WCAG_AA).response["violations"]:
        if v["impact"] in BLOCKING:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
            found.append(f"{path}: {v['id']} ({v['impact']}, {len(v['nodes'])}×): {targets}")
    for width in widths:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        fit = page.evaluate(WIDE_ELEMENTS)
        if fit["scrollWidth"] > fit["width"] or fit["wide"]:
            found.append(
                f"{path} at {width}px: document {fit['scrollWidth']}px wide; wider than the screen: "
                + ("; ".join(fit["wide"]) or "(no single element)")
            )
    return found


def provider_user(role: str) -> str:
    """The walk's provider PW: its administrator is ``pw_admin`` (made with the desk), the others by role."""
    return "pw_admin" if role == "provider_admin" else f"pw_{role}"


@pytest.fixture(scope="module")
def provider_desk(live: Live) -> Seeded:
    """Provider PW's desk with a member of staff of every desk role, a merchant, a terminal and a return opened
    for it: what the desk's pages show (the rest of ``Seeded`` is another walk's)."""
    staff = {provider_user(r): r for r in PROVIDER_ROLES if r != "provider_admin"}
    owner = a_desk(live, "PW", WALK_SN, staff)
    opened_for(live, owner, WALK_SN)
    return Seeded(*(["x"] * 9), provider_merchant_id=str(owner.merchant_id))


@pytest.mark.parametrize("role", PROVIDER_ROLES)
def test_every_desk_page_of_a_provider_role_fits_the_screen_and_passes_axe(
    screen: Page, live: Live, provider_desk: Seeded, axe: Axe, role: str
) -> None:
    """The provider's staff walk the desk's pages (and everyone's own: the overview, the password)."""
    pages = [
        p
        for p in reachable(role, console_pages(provider_desk))
        if p.action is None or p.route.startswith("/console/provider")
    ]
    sign_in_as(screen, live, provider_user(role), then="/console/home")
    menu = screen.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
    listed = {p.path.split("?")[0] for p in pages}
    desk_menu = {m for m in menu if m.startswith("/console/provider")}
    assert desk_menu and desk_menu <= listed, f"menu links of {role} not checked: {desk_menu - listed}"
    names = _names(live) | {WALK_SN, *(provider_user(r) for r in PROVIDER_ROLES)}
    problems: list[str] = []
    for p in pages:
        refused = _visit(screen, live, p.path)
        problems += [refused] if refused else _problems(screen, axe, p.path, names)
    assert not problems, f"{role}: {len(problems)} problems\n" + "\n".join(problems)


def test_the_sign_in_and_error_pages(screen: Page, live: Live, axe: Axe) -> None:
    """The pages outside a role's menu: signing in, and the answers "not found" and "not allowed"."""
    problems: list[str] = []
    for path, status in (("/console/login", 200), ("/console/cases/rfd_missing", 404), ("/console/admin/users", 403)):
        if path != "/console/login" and "/console/login" in screen.url:
            sign_in(screen, live, "a.cashier")
        refused = _visit(screen, live, path, status)
        problems += [refused] if refused else _problems(screen, axe, path, _names(live))
    assert not problems, "\n".join(problems)


def test_every_console_page_is_listed() -> None:
    """A new page of the console joins the checks above: its route must be in ``console_pages``."""
    routes = {
        r.path  # type: ignore[attr-defined]
        for module in PAGES
        for r in module.router.routes
        if "GET" in getattr(r, "methods", set())
    }
    blank = Seeded(*(["x"] * 9))
    listed = {p.route for p in console_pages(blank)} | {"/console/login"}
    assert routes - NOT_PAGES - set(WALKED_ELSEWHERE) - listed == set()
    for route, walk in WALKED_ELSEWHERE.items():
        assert route.split("/{")[0] in (ROOT / walk).read_text(), f"{walk} no longer opens {route}"
    assert listed - routes == set()
