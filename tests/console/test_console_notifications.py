"""The console pages of the notifications issue through HTTP, on SQLite and PostgreSQL: a case's
notifications with every attempt, contact settings and opt-out, the contact log, the tracking link, the
follow-up queue, disputes from opening to outcome, and the admin's templates and gateways. Each form: who
may use it, another merchant's id is 404, errors beside their field and nothing changed on bad input."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from posrefund.adapters.db import tables
from posrefund.domain.notification import OutgoingMessage, SendResult
from posrefund.service import disputes, evidence, execution, refunds
from posrefund.service.execution import Router
from posrefund.service.notifications import follow_up, sending, tracking_links
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.refunds import CustomerInput, RefundRequest
from tests.conftest import FixedClock, World
from tests.console.test_console_pages import PNG, count, field_error
from tests.support.fakes import FakeChannel
from tests.support.helpers import new_sale

LINK = re.compile(r'id="f-tracking-link"[^>]*value="([^"]+)"')


@dataclass
class FlakySms:
    """An SMS gateway at the edge: answers 503 to the first ``fail`` sends, then accepts with an id."""

    fail: int = 1
    name: str = "sms-test"
    sent: list[OutgoingMessage] = field(default_factory=list)

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.fail > 0:
            self.fail -= 1
            return SendResult(ok=False, gateway=self.name, retryable=True, error="HTTP 503")
        self.sent.append(message)
        return SendResult(ok=True, gateway=self.name, provider_message_id=f"prov-{len(self.sent)}")


def paid_case(deps: Any, world: World, amount: int = 2_500, with_photo: bool = False) -> str:
    """A refund approved automatically and paid through the (fake) WeChat channel."""
    photo = evidence.upload(deps, world.a.actors["cashier"], content=PNG, filename="小票.png", kind="receipt")
    sale = new_sale(deps, world.a, amount_fen=10_000)
    req = RefundRequest(
        sale_id=sale.id,
        amount_fen=amount,
        reason="goods_quality",
        customer=CustomerInput(phone="13812345678"),
        evidence_ids=(photo["id"],) if with_photo else (),
    )
    case = refunds.request_refund(deps, world.a.actors["cashier"], req)
    execution.sweep(deps, Router(channels={"wechat": FakeChannel()}, is_workday=lambda d: True))
    assert refunds.get_case(deps, world.a.actors["cashier"], case.id).case.status.value == "succeeded"
    return case.id


def audit_count(engine: Engine, action: str) -> int:
    return count(engine, tables.audit_events, tables.audit_events.c.action == action)


def test_case_page_loads_the_notifications_section(as_user: Any, world: World, deps: Any) -> None:
    case_id = paid_case(deps, world)
    page = as_user("a.cashier").get(f"/console/cases/{case_id}").text
    assert f'hx-get="/console/cases/{case_id}/notify?part=1"' in page  # the section, loaded by htmx
    assert f'href="/console/cases/{case_id}/notify"' in page  # and reachable without JavaScript


def test_notifications_show_every_attempt(as_user: Any, world: World, deps: Any, clock: FixedClock) -> None:
    case_id = paid_case(deps, world)
    sms = FlakySms(fail=1)
    router = NotifyRouter(gateways={"sms": sms})
    sending.sweep(deps, router)  # the first send of each message fails with 503 (retry)
    clock.advance(minutes=30)
    sending.sweep(deps, router)
    section = as_user("a.auditor").get(f"/console/cases/{case_id}/notify?part=1")
    assert section.status_code == 200 and "<html" not in section.text  # a fragment, not a page
    html = section.text
    assert html.count('class="attempt"') == len(sms.sent) + 1  # every attempt, the failed one too
    assert "HTTP 503" in html and "稍后重试" in html and "prov-1" in html and "sms-test" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "已受理" in html and "已退款" in html  # events by name
    # an auditor reads but changes nothing: no forms for contact, link or dispute
    assert "/notify/contact" not in html and "/notify/link" not in html and '/disputes"' not in html
    en = as_user("a.auditor")
    en.client.cookies.set("prc_lang", "en", path="/console")
    assert "Will retry" in en.get(f"/console/cases/{case_id}/notify?part=1").text


def test_contact_settings_and_opt_out(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    case_id = paid_case(deps, world)
    cs = as_user("a.customer_service")
    bad = cs.post(f"/console/cases/{case_id}/notify/contact", {"language": "fr", "email": "not-an-email"})
    assert bad.status_code == 422 and field_error(bad.text, "language")
    bad = cs.post(f"/console/cases/{case_id}/notify/contact", {"language": "en", "email": "not-an-email"})
    assert bad.status_code == 422 and "邮箱地址格式不正确" in field_error(bad.text, "email")
    assert 'value="not-an-email"' in bad.text  # what was typed stays in the field
    assert count(engine, tables.notify_contacts) == 0 and audit_count(engine, "notify.contact_changed") == 0
    ok = cs.post(
        f"/console/cases/{case_id}/notify/contact",
        {"language": "en", "email": "li.lei@example.com", "wechat_openid": "oABCdef123456"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/console/cases/{case_id}#notify"
    html = cs.get(f"/console/cases/{case_id}/notify").text
    assert "l***@example.com" in html and "oAB***456" in html and "li.lei@example.com" not in html
    with engine.connect() as c:
        stored = c.execute(select(tables.notify_contacts)).mappings().one()
    assert "li.lei" not in str(stored["email_enc"]) and stored["language"] == "en"  # encrypted at rest
    bad = cs.post(f"/console/cases/{case_id}/notify/opt-out", {"scope": "everyone"})
    assert bad.status_code == 422 and field_error(bad.text, "scope")
    assert audit_count(engine, "notify.opted_out") == 0
    r = cs.post(f"/console/cases/{case_id}/notify/opt-out", {"scope": "customer"})
    assert r.url.path == f"/console/cases/{case_id}"  # back on the case, at its notifications
    assert "已退订" in cs.get(f"/console/cases/{case_id}/notify").text
    assert audit_count(engine, "notify.opted_out") == 1 and count(engine, tables.notify_optouts) == 1
    finance = as_user("a.finance")
    assert finance.post(f"/console/cases/{case_id}/notify/contact", {"language": "zh"}).status_code == 403


def test_contact_log_written_by_the_case_form_is_shown(as_user: Any, world: World, deps: Any) -> None:
    case_id = paid_case(deps, world)
    cs = as_user("a.customer_service")
    r = cs.post(f"/console/cases/{case_id}/contact", {"channel": "phone", "note": "顾客来电询问到账"})
    assert r.url.path == f"/console/cases/{case_id}"
    html = as_user("a.auditor").get(f"/console/cases/{case_id}/notify?part=1").text
    log = html[html.index('class="contact-log"') :]
    assert "顾客来电询问到账" in log and "电话" in log and "客服" in log


def test_tracking_link_for_staff_who_may(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    case_id = paid_case(deps, world)
    sup = as_user("a.supervisor")
    assert "/notify/link" in sup.get(f"/console/cases/{case_id}/notify").text
    r = sup.post(f"/console/cases/{case_id}/notify/link")
    m = LINK.search(r.text)
    assert r.status_code == 200 and m, r.text[:2000]
    link = m.group(1)
    assert link.startswith("http://127.0.0.1:8000/t/")  # the app's public URL
    token = link.rsplit("/", 1)[1]
    assert tracking_links.verify(deps.secret_key, token, deps.clock.now()) == case_id  # a genuine link
    assert audit_count(engine, "tracking.link_shown") == 1
    page = sup.get(f"/t/{token}")
    assert page.status_code == 200 and "¥25.00" in page.text
    cashier = as_user("a.cashier")
    assert "/notify/link" not in cashier.get(f"/console/cases/{case_id}/notify").text
    assert cashier.post(f"/console/cases/{case_id}/notify/link").status_code == 403
    assert audit_count(engine, "tracking.link_shown") == 1


def test_the_app_public_url_is_used(app: Any, as_user: Any, world: World, deps: Any) -> None:
    app.state.ctx.notify_router = NotifyRouter(public_url="https://refund.example.cn/")
    case_id = paid_case(deps, world)
    r = as_user("a.customer_service").post(f"/console/cases/{case_id}/notify/link")
    m = LINK.search(r.text)
    assert m and m.group(1).startswith("https://refund.example.cn/t/")


def test_another_merchants_case_and_dispute_are_not_found(
    as_user: Any, world: World, deps: Any, engine: Engine
) -> None:
    case_id = paid_case(deps, world)
    d = disputes.open_dispute(deps, world.a.actors["customer_service"], case_id, "金额不对")
    other = as_user("b.admin")
    for path in (
        f"/console/cases/{case_id}/notify",
        f"/console/cases/{case_id}/notify?part=1",
        f"/console/disputes/{d['id']}",
    ):
        assert other.get(path).status_code == 404, path
    for path, form in (
        (f"/console/cases/{case_id}/notify/contact", {"language": "en"}),
        (f"/console/cases/{case_id}/notify/opt-out", {"scope": "case"}),
        (f"/console/cases/{case_id}/notify/link", {}),
        (f"/console/cases/{case_id}/disputes", {"claim": "x"}),
        (f"/console/disputes/{d['id']}/escalate", {"to": "mediation", "reference": "R1"}),
        (f"/console/disputes/{d['id']}/decide", {"outcome": "rejected", "reason": "no"}),
        (f"/console/disputes/{d['id']}/evidence", {"evidence_id": "evd_x"}),
        (f"/console/followups/{case_id}/close", {"note": "x"}),
    ):
        assert other.post(path, form).status_code == 404, path
    assert d["id"] not in other.get("/console/disputes").text
    assert audit_count(engine, "tracking.link_shown") == 0 and count(engine, tables.notify_contacts) == 0
    assert disputes.get(deps, world.a.actors["auditor"], d["id"])["status"] == "open"


def test_follow_up_queue_oldest_first_and_closed_with_a_note(
    as_user: Any, world: World, deps: Any, clock: FixedClock, engine: Engine
) -> None:
    first = paid_case(deps, world)
    clock.advance(days=3)
    follow_up.sweep(deps)
    second = paid_case(deps, world, amount=3_000)
    clock.advance(days=3)
    follow_up.sweep(deps)
    cs = as_user("a.customer_service")
    page = cs.get("/console/followups")
    assert page.status_code == 200
    assert page.text.index(f'data-case="{first}"') < page.text.index(f'data-case="{second}"')  # oldest first
    ages = {r["case_id"]: r["age_days"] for r in follow_up.list_followups(deps, world.a.actors["customer_service"])}
    assert ages[first] > ages[second]
    for case_id, age in ages.items():  # how long each has waited, beside it
        row = page.text[page.text.index(f'data-case="{case_id}"') :]
        assert row.split("</td>", 1)[0].endswith(f"{age} 天")
    assert "138****5678" in page.text and "13812345678" not in page.text
    bad = cs.post(f"/console/followups/{first}/close", {"note": "卡号 4111 1111 1111 1111"})
    assert bad.status_code == 422  # a card number is refused (by the guard) and nothing closes
    bad = cs.post(f"/console/followups/{first}/close", {"note": "很长" * 600})
    assert bad.status_code == 422 and field_error(bad.text, f"note-{first}")
    assert audit_count(engine, "followup.closed") == 0
    r = cs.post(f"/console/followups/{first}/close", {"note": "电话确认已到账"}, follow_redirects=False)
    assert r.status_code == 303
    after = cs.get("/console/followups").text
    assert f'data-case="{first}"' not in after and f'data-case="{second}"' in after
    events = refunds.case_events(deps, world.a.actors["auditor"], first)
    closed = [e for e in events if e["action"] == "followup.closed"]
    assert len(closed) == 1 and closed[0]["reason"] == "电话确认已到账"
    assert "确认到账，跟进结束" in cs.get(f"/console/cases/{first}").text  # on the case's timeline
    again = cs.post(f"/console/followups/{first}/close", {"note": "again"})
    assert again.status_code == 422 and "跟进任务已关闭" in again.text
    assert as_user("a.cashier").get("/console/followups").status_code == 403
    assert (
        ">后续跟进<" in cs.get("/console/followups").text
        and ">后续跟进<" not in as_user("a.finance").get("/console/reports").text
    )


def test_dispute_opened_from_the_case_and_rejected(
    as_user: Any, world: World, deps: Any, engine: Engine, clock: FixedClock
) -> None:
    case_id = paid_case(deps, world, with_photo=True)
    cs = as_user("a.customer_service")
    section = cs.get(f"/console/cases/{case_id}/notify").text
    photo = re.search(r'name="evidence_id" value="([^"]+)"', section)
    assert photo
    bad = cs.post(f"/console/cases/{case_id}/disputes", {"claim": "  ", "claimed": "12.345"})
    assert bad.status_code == 422 and field_error(bad.text, "claimed")
    bad = cs.post(f"/console/cases/{case_id}/disputes", {"claim": "  ", "claimed": "10"})
    assert bad.status_code == 422 and "请填写顾客诉求" in field_error(bad.text, "claim")
    bad = cs.client.post(
        f"/console/cases/{case_id}/disputes",
        data={"csrf": cs.csrf, "claim": "少退了", "claimed": "10"},
        files={"evidence": ("a.exe", b"MZ\x00\x00 not an image", "application/octet-stream")},
    )
    assert bad.status_code == 422 and field_error(bad.text, "evidence")
    assert count(engine, tables.disputes) == 0
    refused = cs.client.post(
        f"/console/cases/{case_id}/disputes",
        data={"csrf": cs.csrf, "claim": " ", "claimed": "10"},
        files={"evidence": ("聊天.png", PNG, "image/png")},
    )
    assert refused.status_code == 422 and field_error(refused.text, "claim") and count(engine, tables.disputes) == 0
    kept = re.findall(r'name="evidence_id" value="([^"]+)" checked', refused.text)
    assert len(kept) == 1  # the uploaded photo comes back ticked, not to be uploaded again
    r = cs.client.post(
        f"/console/cases/{case_id}/disputes",
        data={"csrf": cs.csrf, "claim": "少退了 10 元", "claimed": "10", "evidence_id": [photo.group(1), kept[0]]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/console/disputes/dsp")
    page = cs.get(r.headers["location"]).text
    assert "少退了 10 元" in page and "¥10.00" in page and page.count('<img src="/console/evidence/') == 2
    dispute_id = r.headers["location"].rsplit("/", 1)[1]
    assert "已持续" in cs.get("/console/disputes").text and dispute_id in cs.get("/console/disputes").text
    # a second open dispute on the same case is refused in words
    again = cs.post(f"/console/cases/{case_id}/disputes", {"claim": "再来一次"})
    assert again.status_code == 422 and "已有未结的争议" in again.text
    # escalate: the party must be one of the list, the reference is required
    bad = cs.post(f"/console/disputes/{dispute_id}/escalate", {"to": "court", "reference": "X"})
    assert bad.status_code == 422 and field_error(bad.text, "to")
    bad = cs.post(f"/console/disputes/{dispute_id}/escalate", {"to": "mediation", "reference": " "})
    assert bad.status_code == 422 and field_error(bad.text, "reference")
    r = cs.post(f"/console/disputes/{dispute_id}/escalate", {"to": "mediation", "reference": "TJ-2026-001"})
    assert r.url.path == f"/console/disputes/{dispute_id}"
    assert "调解机构 · TJ-2026-001" in cs.get(f"/console/disputes/{dispute_id}").text
    # customer service cannot decide: no form, and a forced POST is 403
    assert "/decide" not in cs.get(f"/console/disputes/{dispute_id}").text
    assert cs.post(f"/console/disputes/{dispute_id}/decide", {"outcome": "rejected", "reason": "x"}).status_code == 403
    sup = as_user("a.supervisor")
    bad = sup.post(f"/console/disputes/{dispute_id}/decide", {"outcome": "rejected", "reason": ""})
    assert bad.status_code == 422 and field_error(bad.text, "reason")
    bad = sup.post(f"/console/disputes/{dispute_id}/decide", {"outcome": "maybe", "reason": "x"})
    assert bad.status_code == 422 and field_error(bad.text, "outcome")
    assert disputes.get(deps, world.a.actors["auditor"], dispute_id)["status"] == "escalated"
    r = sup.post(f"/console/disputes/{dispute_id}/decide", {"outcome": "rejected", "reason": "已按小票金额退款"})
    assert r.url.path == f"/console/disputes/{dispute_id}"
    assert r.status_code == 200 and "争议驳回" in r.text and "已按小票金额退款" in r.text
    assert "/decide" not in r.text and "/escalate" not in r.text  # closed: no more steps
    with engine.connect() as c:
        sent = (
            c.execute(select(tables.notifications.c.event).where(tables.notifications.c.case_id == case_id))
            .scalars()
            .all()
        )
    assert "dispute_rejected" in sent  # the reason goes to the customer
    timeline = sup.get(f"/console/cases/{case_id}").text  # the dispute's events are in the case's timeline
    for text in ("发起争议", "争议提交第三方", "争议驳回"):
        assert text in timeline, text


def test_upheld_dispute_links_the_new_refund(as_user: Any, world: World, deps: Any, engine: Engine) -> None:
    case_id = paid_case(deps, world)
    d = disputes.open_dispute(deps, world.a.actors["customer_service"], case_id, "少退了 20 元", 2_000)
    sup = as_user("a.supervisor")
    bad = sup.post(f"/console/disputes/{d['id']}/decide", {"outcome": "upheld", "reason": "核实", "amount": "abc"})
    assert bad.status_code == 422 and field_error(bad.text, "amount")
    too_much = sup.post(f"/console/disputes/{d['id']}/decide", {"outcome": "upheld", "reason": "核实", "amount": "500"})
    assert too_much.status_code == 422  # beyond what is refundable: the normal refund rules refuse it
    assert (
        count(engine, tables.refunds) == 1
        and disputes.get(deps, world.a.actors["auditor"], d["id"])["status"] == "open"
    )
    r = sup.post(f"/console/disputes/{d['id']}/decide", {"outcome": "upheld", "reason": "核实少退"})
    assert r.status_code == 200 and r.url.path == f"/console/disputes/{d['id']}"
    m = re.search(r'class="new-case" href="/console/cases/([^"]+)">', r.text)
    assert m and "¥20.00" in r.text
    new = refunds.get_case(deps, world.a.actors["auditor"], m.group(1)).case
    assert (
        new.amount_fen == 2_000
        and new.sale_id == refunds.get_case(deps, world.a.actors["auditor"], case_id).case.sale_id
    )
    assert count(engine, tables.refunds) == 2


def test_dispute_list_filters_by_status_and_age(as_user: Any, world: World, deps: Any, clock: FixedClock) -> None:
    old = disputes.open_dispute(deps, world.a.actors["customer_service"], paid_case(deps, world), "旧的争议")
    clock.advance(days=5)
    new = disputes.open_dispute(deps, world.a.actors["customer_service"], paid_case(deps, world), "新的争议")
    disputes.escalate(deps, world.a.actors["customer_service"], new["id"], "acquirer", "ACQ-9")
    cashier = as_user("a.cashier")  # every staff member may read disputes
    everything = cashier.get("/console/disputes").text
    assert everything.index(old["id"]) < everything.index(new["id"])  # oldest first
    assert "5 天" in everything
    escalated = cashier.get("/console/disputes", params={"status": "escalated"}).text
    assert new["id"] in escalated and old["id"] not in escalated
    aged = cashier.get("/console/disputes", params={"min_days": "3"}).text
    assert old["id"] in aged and new["id"] not in aged
    bad = cashier.get("/console/disputes", params={"min_days": "soon"})
    assert bad.status_code == 422 and field_error(bad.text, "min_days")
    assert "发起争议" not in cashier.get(f"/console/cases/{new['case_id']}/notify").text  # may read, not open


def test_admin_edits_a_template_with_preview(as_user: Any, engine: Engine) -> None:
    admin = as_user("a.admin")
    listing = admin.get("/console/admin/notify")
    # every event's template in both languages, the customers' and the merchants' (as the API lists them)
    assert listing.status_code == 200 and listing.text.count("data-template=") == 44
    path = "/console/admin/notify/templates/paid/zh"
    assert admin.get(path).status_code == 200
    bad = admin.post(path, {"subject": "退款", "body": "{{ amout }} 已退", "do": "save"})
    assert bad.status_code == 422 and "unknown variable" in field_error(bad.text, "body")
    assert "{{ amout }} 已退" in bad.text  # kept in the field
    bad = admin.post(path, {"subject": "{{ nope }}", "body": "ok", "do": "preview"})
    assert bad.status_code == 422 and field_error(bad.text, "subject")
    assert count(engine, tables.notify_templates) == 0
    preview = admin.post(path, {"subject": "退款 {{ refund_no }}", "body": "已退 {{ amount }}", "do": "preview"})
    assert preview.status_code == 200 and 'class="preview-body">已退 ¥' in preview.text
    assert count(engine, tables.notify_templates) == 0  # a preview stores nothing
    r = admin.post(
        path, {"subject": "退款 {{ refund_no }}", "body": "已退 {{ amount }}", "do": "save"}, follow_redirects=False
    )
    assert r.status_code == 303 and count(engine, tables.notify_templates) == 1
    assert "自定义" in admin.get("/console/admin/notify").text
    r = admin.post(path, {"subject": "", "body": "", "do": "reset"})
    assert (r.url.path, r.url.params.get("saved")) == ("/console/admin/notify", "paid-zh")
    assert count(engine, tables.notify_templates) == 0
    assert admin.get("/console/admin/notify/templates/nope/zh").status_code == 404
    assert as_user("a.supervisor").get("/console/admin/notify").status_code == 403
    assert as_user("a.supervisor").post(path, {"subject": "s", "body": "b", "do": "save"}).status_code == 403
    assert audit_count(engine, "notify.template_changed") == 1 and audit_count(engine, "notify.template_reset") == 1


def test_admin_gateway_credential_is_write_only(as_user: Any, engine: Engine) -> None:
    admin = as_user("a.admin")
    assert "未配置" in admin.get("/console/admin/notify/gateways").text
    bad = admin.post(
        "/console/admin/notify/gateways/sms",
        {"sms.url": "ftp://x", "payload": "mobile = to\ncontent = text", "sms.credential": "s3cret-key"},
    )
    assert bad.status_code == 422 and field_error(bad.text, "sms.url") and "s3cret-key" not in bad.text
    bad = admin.post(
        "/console/admin/notify/gateways/sms", {"sms.url": "https://sms.example.cn/send", "payload": "mobile"}
    )
    assert bad.status_code == 422 and field_error(bad.text, "sms.payload")
    bad = admin.post(
        "/console/admin/notify/gateways/sms", {"sms.url": "https://sms.example.cn/send", "payload": "mobile = phone"}
    )
    assert bad.status_code == 422 and "phone" in field_error(bad.text, "sms.payload")
    assert count(engine, tables.notify_gateways) == 0
    ok = admin.post(
        "/console/admin/notify/gateways/sms",
        {
            "sms.url": "https://sms.example.cn/send",
            "payload": "mobile = to\ncontent = text\nsign = =某店",
            "sms.credential": "s3cret-key",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = admin.get("/console/admin/notify/gateways").text
    assert "凭据已设置" in page and "s3cret-key" not in page and "https://sms.example.cn/send" in page
    with engine.connect() as c:
        row = c.execute(select(tables.notify_gateways)).mappings().one()
    assert "s3cret-key" not in str(row["credential_enc"])
    # saving again without a credential keeps the one stored
    r = admin.post(
        "/console/admin/notify/gateways/sms", {"sms.url": "https://sms2.example.cn/send", "payload": "m = to\nc = text"}
    )
    assert (r.url.path, r.url.params.get("saved")) == ("/console/admin/notify/gateways", "sms")
    with engine.connect() as c:
        again = c.execute(select(tables.notify_gateways)).mappings().one()
    assert again["credential_enc"] == row["credential_enc"] and "sms2" in again["document"]
    assert admin.post("/console/admin/notify/gateways/fax", {"sms.url": "https://x.cn"}).status_code == 404
    assert as_user("a.supervisor").get("/console/admin/notify/gateways").status_code == 403


def test_menu_entries_follow_permissions(as_user: Any) -> None:
    cs = as_user("a.customer_service").get("/console/service").text
    assert 'href="/console/followups"' in cs and 'href="/console/disputes"' in cs and "/console/admin/notify" not in cs
    cashier = as_user("a.cashier").get("/console/desk").text
    assert 'href="/console/followups"' not in cashier and 'href="/console/disputes"' in cashier
    admin = as_user("a.admin").get("/console/admin/users").text
    assert 'href="/console/admin/notify"' in admin
