"""Pure rules of notifications: which case events tell the customer what, the retry schedule, amounts as
¥ with two decimals, the template sandbox, and the signed tracking links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import TemplateError

from posrefund.domain.errors import Invalid
from posrefund.domain.merchant_notice import MERCHANT_EVENTS, MERCHANT_TEMPLATES, MERCHANT_VARIABLES
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import (
    DEFAULT_TEMPLATES,
    MAX_ATTEMPTS,
    TEMPLATE_VARIABLES,
    NotifyEvent,
    event_for,
    retry_delay,
)
from posrefund.domain.pii import find_card_number
from posrefund.service.notifications import tracking_links
from posrefund.service.notifications.templates import render_text, validate

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SECRET = "s" * 40


def test_case_events_map_to_what_the_customer_hears() -> None:
    assert event_for("refund.requested", "requested") is NotifyEvent.ACCEPTED
    assert event_for("refund.review_required", "pending_review") is NotifyEvent.PENDING_REVIEW
    assert event_for("refund.auto_approved", "approved") is NotifyEvent.APPROVED
    assert event_for("refund.rejected", "rejected") is NotifyEvent.REJECTED
    assert event_for("refund.succeeded", "succeeded") is NotifyEvent.PAID
    assert event_for("refund.payout_confirmed", "succeeded") is NotifyEvent.PAID
    assert event_for("refund.resolved", "succeeded") is NotifyEvent.PAID
    assert event_for("refund.resolved", "closed") is None
    assert event_for("refund.abnormal", "abnormal") is NotifyEvent.ATTENTION
    assert event_for("refund.processing", "processing") is None  # nothing the customer needs to hear


def test_retry_schedule_grows_then_gives_up() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:-1] == sorted(delays[:-1]) and delays[-1] is None


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "¥0.00"), (5, "¥0.05"), (1_234, "¥12.34"), (123_456_789, "¥1,234,567.89")]
)
def test_amounts_are_yuan_with_two_decimals_from_integer_fen(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


def test_every_default_template_renders_in_both_languages_without_personal_data() -> None:
    assert {e for e, _ in DEFAULT_TEMPLATES} == set(NotifyEvent) - MERCHANT_EVENTS
    for (event, lang), (subject, body) in DEFAULT_TEMPLATES.items():
        assert validate(event.value, lang, subject, body) == (event, lang)
        text = render_text(body, TEMPLATE_VARIABLES)
        assert "¥12.34" in text or event in (NotifyEvent.DISPUTE_REJECTED,)
        assert "138****5678" not in text and not find_card_number(text)
        if lang == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in subject)


@pytest.mark.parametrize(
    "source",
    [
        "{{ x }}",
        "{% for i in range(3) %}{% endfor %}",
        "{{ amount.__class__.__mro__ }}",
        "{{ amount|attr('upper') }}",
        "{{ 'a' * 1000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{% set x = 1 %}",
        "{{ lipsum() }}",
        "{% include 'x' %}",
        "{{ amount",
    ],
)
def test_the_sandbox_refuses_anything_beyond_variables_and_if(source: str) -> None:
    with pytest.raises(TemplateError):
        render_text(source, TEMPLATE_VARIABLES)
    with pytest.raises(Invalid) as err:
        validate("paid", "zh", "s", source)
    assert err.value.code == "notify.template_invalid"


def test_allowed_syntax_renders() -> None:
    source = "{{ merchant_name|upper }}{% if reason %}：{{ reason|truncate(20) }}{% else %}-{% endif %}"
    assert render_text(source, TEMPLATE_VARIABLES) == "某某商户：超过退款期限"


def test_tracking_links_round_trip_and_refuse_changes() -> None:
    token = tracking_links.sign(SECRET, "rfd_abc", NOW + timedelta(days=1))
    assert len(token) < 70
    assert tracking_links.verify(SECRET, token, NOW) == "rfd_abc"
    for bad, reason in [
        (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "invalid"),
        (tracking_links.sign("o" * 40, "rfd_abc", NOW + timedelta(days=1)), "invalid"),
        ("x" * 300, "invalid"),
        ("%%%.###", "invalid"),
    ]:
        with pytest.raises(tracking_links.LinkRefused) as err:
            tracking_links.verify(SECRET, bad, NOW)
        assert err.value.reason == reason
    later = tracking_links.sign(SECRET, "rfd_abc", NOW + timedelta(days=999))
    swapped = later.split(".")[0] + "." + token.split(".")[1]
    assert swapped != token
    with pytest.raises(tracking_links.LinkRefused):
        tracking_links.verify(SECRET, swapped, NOW)  # a later expiry under the old MAC
    with pytest.raises(tracking_links.LinkRefused) as err:
        tracking_links.verify(SECRET, token, NOW + timedelta(days=1))
    assert err.value.reason == "expired"


def test_every_merchant_template_renders_in_both_languages_with_only_its_own_variables() -> None:
    """A merchant's message knows the device or the fee case, not a customer's refund: ``{{ refund_no }}`` in
    one is refused, as ``{{ sn }}`` is in a customer's."""
    assert {e for e, _ in MERCHANT_TEMPLATES} == set(MERCHANT_EVENTS)
    for (event, lang), (subject, body) in MERCHANT_TEMPLATES.items():
        assert validate(event.value, lang, subject, body) == (event, lang)
        text = render_text(body, MERCHANT_VARIABLES)
        assert "{{" not in text and not find_card_number(text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in subject) == (lang == "zh")
    with pytest.raises(Invalid) as refused:
        validate("return_shipping", "zh", "寄回", "单号 {{ refund_no }}")
    assert refused.value.code == "notify.template_invalid"
    with pytest.raises(Invalid) as refused:
        validate("paid", "zh", "已退款", "终端 {{ sn }}")
    assert refused.value.code == "notify.template_invalid"
