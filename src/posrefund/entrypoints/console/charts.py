"""A horizontal bar chart as inline SVG, drawn on the server: no JavaScript library, readable without
colour (every bar carries its number), with a text title and description for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = 22
GAP = 8
LABEL_W = 190
BAR_W = 320
NUM_W = 80


def bars(items: list[tuple[str, int]], *, title: str) -> Markup:
    """``items`` are (label, count); the longest bar is the largest count (a zero draws no bar)."""
    top = max((n for _l, n in items), default=0)
    height = len(items) * (BAR + GAP) + GAP
    width = LABEL_W + BAR_W + NUM_W
    desc = "; ".join(f"{text}: {n}" for text, n in items)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-t chart-d" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-t">{escape(title)}</title><desc id="chart-d">{escape(desc)}</desc>',
    ]
    for i, (text, n) in enumerate(items):
        y = GAP + i * (BAR + GAP)
        w = 0 if top == 0 else max(2, round(BAR_W * n / top)) if n else 0
        mid = y + BAR / 2 + 5
        parts.append(f'<text x="{LABEL_W - 8}" y="{mid}" text-anchor="end" font-size="13">{escape(text)}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{BAR_W}" height="{BAR}" fill="#eef1f5"/>')
        if w:
            fill = "#c0392b" if n else "#2e7d32"
            parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{w}" height="{BAR}" fill="{fill}"/>')
        parts.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{mid}" font-size="13">{n:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
