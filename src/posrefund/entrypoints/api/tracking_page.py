"""The customer's tracking page as HTML: Jinja2 with autoescape, Chinese by default, English on ``?lang=en``.
Its style is a static file (the Content-Security-Policy allows no inline style), and it has no script."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "退款进度",
        "refund_no": "退款单号",
        "status": "状态",
        "amount": "金额",
        "route": "退回方式",
        "expected": "预计到账",
        "payer": "付款账户",
        "merchant": "商户",
        "contact": "联系电话",
        "confirm": "我已收到退款",
        "received": "您已确认收到退款，谢谢！",
        "stop": "不再接收通知",
        "stopped": "您已退订此退款的通知。",
        "switch": "English",
        "refused_invalid": "链接无效。请使用短信或邮件中的完整链接，或联系商户。",
        "refused_expired": "链接已过期。请联系商户获取最新进度。",
        "refused_not_found": "未找到该退款。",
        "refused_state": "退款尚未完成，暂不能确认收款。",
    },
    "en": {
        "title": "Your refund",
        "refund_no": "Refund no.",
        "status": "Status",
        "amount": "Amount",
        "route": "Paid back by",
        "expected": "Expected by",
        "payer": "Account",
        "merchant": "Merchant",
        "contact": "Phone",
        "confirm": "I have received the refund",
        "received": "You confirmed the refund arrived. Thank you!",
        "stop": "Stop messages",
        "stopped": "You will receive no more messages about this refund.",
        "switch": "中文",
        "refused_invalid": "This link is not valid. Use the full link from the message, or ask the merchant.",
        "refused_expired": "This link has expired. Please ask the merchant for the latest status.",
        "refused_not_found": "This refund was not found.",
        "refused_state": "The refund is not paid yet, so receipt cannot be confirmed.",
    },
}

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{ t.title }}</title>
<link rel="stylesheet" href="/console/static/tracking.css"></head>
<body><p><a href="?lang={{ 'zh' if lang == 'en' else 'en' }}">{{ t.switch }}</a></p>
{% if refused %}<h1>{{ t.title }}</h1><p class="msg" id="refused">{{ t['refused_' ~ refused] }}</p>
{% else %}<h1>{{ t.title }}</h1>
{% if notice %}<p class="msg" id="notice">{{ t[notice] }}</p>{% endif %}
<dl>
<dt>{{ t.status }}</dt><dd id="status" data-status="{{ v.status }}">{{ v.status_text }}</dd>
<dt>{{ t.amount }}</dt><dd id="amount">{{ v.amount }}</dd>
<dt>{{ t.route }}</dt><dd>{{ v.route }}</dd>
{% if v.expected_arrival %}<dt>{{ t.expected }}</dt><dd id="expected">{{ v.expected_arrival }}</dd>{% endif %}
{% if v.payer %}<dt>{{ t.payer }}</dt><dd id="payer">{{ v.payer }}</dd>{% endif %}
<dt>{{ t.refund_no }}</dt><dd>{{ v.refund_no }}</dd>
<dt>{{ t.merchant }}</dt><dd>{{ v.merchant_name }}</dd>
{% if v.merchant_phone %}<dt>{{ t.contact }}</dt><dd>{{ v.merchant_phone }}</dd>{% endif %}
</dl>
{% if v.received %}<p class="msg">{{ t.received }}</p>{% endif %}
{% if v.can_confirm %}<form method="post" action="{{ base }}/confirm?lang={{ lang }}">
<button type="submit" id="confirm">{{ t.confirm }}</button></form>{% endif %}
{% if not v.opted_out %}<form method="post" action="{{ base }}/stop?lang={{ lang }}">
<button type="submit" id="stop">{{ t.stop }}</button></form>{% endif %}
{% endif %}</body></html>"""
)


def render_page(lang: str, base: str, view: dict[str, Any] | None, refused: str = "", notice: str = "") -> str:
    return _PAGE.render(lang=lang, t=LABELS[lang], v=view or {}, base=base, refused=refused, notice=notice)
