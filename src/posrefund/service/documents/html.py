"""A document as HTML: the fragment the console puts in its page and the body of the summary's email (a whole
page with its own small style sheet, as mail readers keep no outside styles). Escaped by Jinja2; narrow
screens (390 px) get each table in a box that scrolls sideways instead of a page wider than the phone."""

from __future__ import annotations

from jinja2 import Environment
from markupsafe import Markup

from posrefund.ports.documents import Document, Fields, Heading, Paragraph, Signatures, Table

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_env.tests["heading"] = lambda b: isinstance(b, Heading)
_env.tests["paragraph"] = lambda b: isinstance(b, Paragraph)
_env.tests["fields"] = lambda b: isinstance(b, Fields)
_env.tests["table"] = lambda b: isinstance(b, Table)
_env.tests["signatures"] = lambda b: isinstance(b, Signatures)

FRAGMENT = _env.from_string(
    """<article class="document">
{% for b in doc.blocks %}
{% if b is heading %}{% if b.level == 1 %}<h1>{{ b.text }}</h1>{% else %}<h2>{{ b.text }}</h2>{% endif %}
{% elif b is paragraph %}<p>{{ b.text }}</p>
{% elif b is fields %}<dl class="doc-fields facts">
{% for k, v in b.pairs %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
{% elif b is table %}{% if b.rows %}<div class="doc-table scroll" tabindex="0"><table><thead><tr>
{% for h in b.header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in b.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></div>{% else %}<p class="doc-empty">{{ b.empty }}</p>{% endif %}
{% elif b is signatures %}<p>{% for label in b.labels %}{{ label }}：________ {% endfor %}</p>
{% endif %}
{% endfor %}
{% if doc.footer %}<footer>{{ doc.footer }}</footer>{% endif %}
</article>"""
)

STYLE = """body{font-family:"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0;padding:12px;
color:#1f2328;max-width:960px}h1{font-size:20px}h2{font-size:16px;margin-top:20px;border-bottom:1px solid #ddd}
.doc-table{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
.doc-fields{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}.doc-fields dd{margin:0}
footer{color:#666;font-size:12px;margin-top:16px}"""

PAGE = _env.from_string(
    """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ doc.title }}</title>
<style>{{ style }}</style></head><body>{{ fragment }}</body></html>"""
)


def document_fragment(doc: Document) -> Markup:
    """Safe to put in a page as it is: every text of the document went through the template's escaping."""
    return Markup(FRAGMENT.render(doc=doc))  # noqa: S704 - autoescaped above


def document_page(doc: Document) -> str:
    return PAGE.render(doc=doc, style=Markup(STYLE), fragment=document_fragment(doc))  # noqa: S704 - a constant
