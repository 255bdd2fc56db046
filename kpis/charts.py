"""Charts as inline SVG, rendered on the server: no JavaScript library, nothing to download.

Each chart is a <svg role="img"> with a text alternative; bars are links to their records.
"""

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _n(number) -> str:
    return f"{number:.1f}"


def _scale(values, height, pad=2):
    known = [float(v) for v in values if v is not None]
    top = max(known, default=0) or 1
    low = min(0.0, *known) if known else 0.0
    span = (top - low) or 1
    return lambda v: height - pad - (float(v) - low) / span * (height - 2 * pad)


def sparkline(values: list[Decimal | None], *, label: str, width: int = 120, height: int = 28) -> SafeString:
    """A small line of the last periods; gaps where a value is undefined."""
    if not any(v is not None for v in values):
        return mark_safe('<span class="muted">no trend</span>')
    y = _scale(values, height)
    step = width / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{i * step:.1f},{y(v):.1f}")
    if current:
        segments.append(current)
    lines = format_html_join("", '<polyline points="{}"/>', ((" ".join(s),) for s in segments))
    last = len(values) - 1
    dot = (
        format_html('<circle cx="{}" cy="{}" r="2.5"/>', _n(last * step), _n(y(values[-1])))
        if values[-1] is not None
        else ""
    )
    return format_html(
        '<svg class="spark" viewBox="-3 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title>{}{}</svg>",
        width + 6,
        height,
        width + 6,
        height,
        label,
        label,
        lines,
        dot,
    )


def bar_chart(
    bars: list[tuple[str, Decimal | None, str]],
    *,
    label: str,
    fmt,
    targets: list[Decimal | None] | None = None,
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """Bars (period label, value, link) with an optional target tick per bar."""
    targets = targets or [None] * len(bars)
    axis = 18
    plot = height - axis
    y = _scale([v for _, v, _ in bars] + list(targets), plot, pad=8)
    slot = width / max(len(bars), 1)
    parts = []
    for i, ((name, value, href), target) in enumerate(zip(bars, targets, strict=True)):
        x = i * slot + slot * 0.15
        w = slot * 0.7
        if value is not None:
            top = y(value)
            parts.append(
                format_html(
                    '<a href="{}"><rect class="bar" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect></a>",
                    href,
                    _n(x),
                    _n(top),
                    _n(w),
                    _n(max(y(0) - top, 0)),
                    name,
                    fmt(value),
                )
            )
        if target is not None:
            parts.append(
                format_html(
                    '<line class="target" x1="{}" x2="{}" y1="{}" y2="{}">'
                    "<title>{} target: {}</title></line>",
                    _n(x - 2),
                    _n(x + w + 2),
                    _n(y(target)),
                    _n(y(target)),
                    name,
                    fmt(target),
                )
            )
        if len(bars) <= 12 or i % 2 == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle">{}</text>', _n(x + w / 2), height - 4, name
                )
            )
    summary = "; ".join(f"{name} {fmt(value)}" for name, value, _ in bars if value is not None)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title><desc>{}</desc><line class="axis" x1="0" x2="{}" y1="{}" y2="{}"/>{}</svg>',
        width,
        height,
        label,
        label,
        summary,
        width,
        _n(y(0)),
        _n(y(0)),
        mark_safe("".join(parts)),  # every part came from format_html
    )
