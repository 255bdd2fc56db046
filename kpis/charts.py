"""Charts as inline SVG, rendered on the server: no JavaScript library, nothing to download.

Each chart is a <svg role="img"> with a text alternative; bars are links to their records.
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

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


NICE = [Decimal(m) for m in ("1", "2", "2.5", "5", "10")]


def nice_ticks(values, count: int = 4, *, whole: bool = False) -> list[Decimal]:
    """Round steps from 0 (or the lowest value, when below 0) past the highest: 0, 5k, 10k, 15k;
    `whole`: steps of at least 1 (counts)."""
    known = [Decimal(v) for v in values if v is not None]
    if not any(known):
        return [Decimal(0), Decimal(1)]
    top, low = max(known, default=Decimal(0)), min([Decimal(0), *known])
    span = (top - low) or Decimal(1)
    raw = span / count
    magnitude = Decimal(10) ** raw.adjusted()
    step = next(m * magnitude for m in NICE if m * magnitude >= raw)
    if whole:
        step = max(step.to_integral_value(rounding=ROUND_CEILING), Decimal(1))
    first = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    ticks = [first]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks if len(ticks) > 1 else [first, first + step]


def compact(value) -> str:
    """An axis label: 15k, 1.2M, 350."""
    value = Decimal(value)
    for limit, suffix in ((Decimal(10**9), "G"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}".rstrip("0")


def bar_chart(
    bars: list[tuple[str, Decimal | None, str]],
    *,
    label: str,
    fmt,
    unit: str = "",
    whole: bool = False,
    targets: list[Decimal | None] | None = None,
    width: int = 640,
    height: int = 200,
) -> SafeString:
    """Bars (period label, value, link) over a y axis with round ticks (`unit` names it: "USD"),
    with an optional target mark per bar; `whole`: counts, whose ticks are whole numbers. Every
    other period label is `odd`: a phone's CSS hides those and draws the rest large enough to
    read (static/css/app.css)."""
    targets = targets or [None] * len(bars)
    ticks = nice_ticks([v for _, v, _ in bars] + list(targets), whole=whole)
    left, axis, top_pad = 52, 26, 8
    plot = height - axis
    low, high = float(ticks[0]), float(ticks[-1])

    def y(v):
        return plot - (float(v) - low) / ((high - low) or 1) * (plot - top_pad)

    slot = (width - left) / max(len(bars), 1)
    parts = []
    for t in ticks:
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                width,
                _n(y(t)),
                _n(y(t)),
                left - 6,
                _n(y(t) + 4),
                compact(t),
            )
        )
    for i, ((name, value, href), target) in enumerate(zip(bars, targets, strict=True)):
        x = left + i * slot + slot * 0.15
        w = slot * 0.7
        if value is not None:
            top = y(value)
            parts.append(
                format_html(
                    '<a href="{}"><rect class="bar" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect></a>",
                    href,
                    _n(x),
                    _n(min(top, y(0))),
                    _n(w),
                    _n(abs(y(0) - top)),
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
        parts.append(
            format_html(
                '<text class="period{}" x="{}" y="{}" text-anchor="middle">{}</text>',
                " odd" if i % 2 else "",
                _n(x + w / 2),
                height - 6,
                name,
            )
        )
    summary = "; ".join(f"{name} {fmt(value)}" for name, value, _ in bars if value is not None)
    unit_label = format_html('<text class="unit" x="0" y="{}">{}</text>', 10, unit) if unit else ""
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title><desc>{}</desc>{}<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>{}</svg>',
        width,
        height,
        label,
        label,
        summary,
        unit_label,
        left,
        width,
        _n(y(0)),
        _n(y(0)),
        left,
        left,
        top_pad,
        plot,
        mark_safe("".join(parts)),  # every part came from format_html
    )


WATERFALL_FILL = {"total": "#475569", "up": "#15803d", "down": "#b91c1c"}


def waterfall_chart(
    steps: list[tuple[str, Decimal, str, str]], *, label: str, fmt, unit: str = "", width: int = 640
) -> SafeString:
    """A waterfall, one row per step (name, amount, kind, link): a `total` bar stands on 0, an
    `up` one floats from the running total to it plus the amount, a `down` one back by it. Rows,
    not columns: on a phone each name keeps a line of its own and nothing is left unlabelled.
    The money axis runs along the bottom; each row ends with its amount (compact)."""
    levels, level = [], Decimal(0)
    for _, amount, kind, _ in steps:
        if kind == "total":
            low, level = Decimal(0), amount
            levels.append((low, amount))
        elif kind == "up":
            levels.append((level, level + amount))
            level += amount
        else:
            levels.append((level - amount, level))
            level -= amount
    ticks = nice_ticks([high for _, high in levels] + [low for low, _ in levels])
    names, values, row, axis = 150, 84, 36, 34
    plot_right = width - values
    height = row * len(steps) + axis
    low, high = float(ticks[0]), float(ticks[-1])

    def x(v):
        return names + (float(v) - low) / ((high - low) or 1) * (plot_right - names)

    parts = []
    for t in ticks:
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="0" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(x(t)),
                _n(x(t)),
                row * len(steps),
                _n(x(t)),
                height - 8,
                compact(t),
            )
        )
    for i, ((name, amount, kind, href), (start, end)) in enumerate(zip(steps, levels, strict=True)):
        top, sign = i * row, {"up": "+", "down": "−"}.get(kind, "")
        parts.append(
            format_html(
                # The whole row is the link (a transparent rect takes the clicks): a bar may be a
                # sliver, and a finger on a phone is not.
                '<a href="{}"><rect x="0" y="{}" width="{}" height="{}" fill="transparent"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}{}</title></rect>'
                '<text x="{}" y="{}" text-anchor="end">{}</text>'
                '<text x="{}" y="{}" text-anchor="end">{}{}</text></a>',
                href,
                top,
                width,
                row,
                _n(x(start)),
                top + 7,
                _n(max(x(end) - x(start), 2)),  # an empty movement: a sliver, still to click
                row - 14,
                WATERFALL_FILL[kind],
                name,
                sign,
                fmt(amount),
                names - 8,
                top + row / 2 + 5,
                name,
                width,
                top + row / 2 + 5,
                sign,
                compact(amount),
            )
        )
    summary = "; ".join(f"{name} {fmt(amount)}" for name, amount, _, _ in steps)
    unit_label = format_html('<text class="unit" x="0" y="{}">{}</text>', height - 8, unit) if unit else ""
    return format_html(
        '<svg class="chart waterfall" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title><desc>{}</desc>{}<line class="axis" x1="{}" x2="{}" y1="0" y2="{}"/>{}</svg>',
        width,
        height,
        label,
        label,
        summary,
        unit_label,
        names,
        names,
        row * len(steps),
        mark_safe("".join(parts)),  # every part came from format_html
    )


def funnel_chart(steps: list[tuple[str, int, str]], *, label: str, width: int = 480) -> SafeString:
    """A funnel: one horizontal bar per step (name, count, note — the conversion from the step
    before), in the order of the steps, over an x axis of whole-number ticks. Each step's name and count sit
    above its bar and the note at its right end, so a phone's larger labels (static/css/app.css)
    need no more room than the width."""
    ticks = nice_ticks([count for _, count, _ in steps], whole=True)
    pad, row, bar, axis = 4, 58, 20, 30
    high = float(ticks[-1]) or 1.0

    def x(v):
        return pad + float(v) / high * (width - 2 * pad)

    parts, base = [], len(steps) * row + 4  # the grid first: the bars over it
    for t in ticks:
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="0" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(x(t)),
                _n(x(t)),
                base,
                _n(min(max(x(t), 12), width - 12)),
                base + 22,
                compact(t),
            )
        )
    for i, (name, count, note) in enumerate(steps):
        top = i * row
        parts.append(
            format_html(
                '<text class="step" x="{}" y="{}">{}: {}</text>'
                '<text class="note" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {} ({})</title></rect>',
                pad,
                top + 22,
                name,
                count,
                width - pad,
                top + 22,
                note,
                pad,
                top + 30,
                _n(x(count) - pad),
                bar,
                name,
                count,
                note,
            )
        )
    summary = "; ".join(f"{name} {count} ({note})" for name, count, note in steps)
    return format_html(
        '<svg class="chart funnel" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<title>{}</title><desc>{}</desc>{}<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/></svg>',
        width,
        base + axis,
        label,
        label,
        summary,
        mark_safe("".join(parts)),  # every part came from format_html
        pad,
        width - pad,
        base,
        base,
    )
