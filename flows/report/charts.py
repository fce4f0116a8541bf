"""Small inline charts for the report: sparklines (SVG and text) and stacked bars.

Pure: each returns markup or text. SVG output is safe markup (every label is escaped).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
# A text sparkline's most blocks: the default 90-day window, a day a block.
SPARK_TEXT_WIDTH = 90
# A muted palette (Tableau 10): channels and score parts take the colour their registry entry
# declares (config/channels.py, nlp/factors.py); these are the spares for the others.
_SPARE_COLOURS = ("#9c755f", "#bab0ac", "#ff9da7", "#86bcb6", "#d4a6c8")


def registry_colour(key: str, registry: Sequence[tuple[str, str | None]]) -> str:
    """``key``'s colour among a registry's ``(name, colour)`` pairs, the same in every chart.

    The declared colour, else a spare one picked by ``key``'s place in the registry (after
    every registered name when ``key`` is not one of them).
    """
    names = [name for name, _ in registry]
    index = names.index(key) if key in names else len(names)
    return dict(registry).get(key) or _SPARE_COLOURS[index % len(_SPARE_COLOURS)]


def sparkline_svg(counts: Sequence[int], width: int = 120, height: int = 24) -> str:
    """Draw daily counts as a small inline SVG line chart.

    Args:
        counts: The counts, oldest first.
        width: The drawing's width in CSS pixels.
        height: The drawing's height in CSS pixels.

    Returns:
        An ``<svg>`` element (as safe markup) with a polyline scaled from 0 to the largest
        count and a dot on the latest value; an empty frame when there are no counts.
    """
    pad = 2.0
    values = [max(0, int(c)) for c in counts]
    label = f"daily counts, {len(values)} days, latest {values[-1]}" if values else "no data"
    head = (
        f'<svg class="spark" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">'
    )
    if not values:
        return Markup(head + "</svg>")
    top = max(values) or 1
    span_x = width - 2 * pad
    span_y = height - 2 * pad
    step = span_x / (len(values) - 1) if len(values) > 1 else 0.0
    points = [
        (pad + i * step if len(values) > 1 else width / 2, height - pad - v / top * span_y)
        for i, v in enumerate(values)
    ]
    if len(points) == 1:  # one day: draw it as a flat line across
        points = [(pad, points[0][1]), (width - pad, points[0][1])]
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    base = height - pad
    area = f"{pad:.1f},{base:.1f} {coords} {points[-1][0]:.1f},{base:.1f}"
    last_x, last_y = points[-1]
    return Markup(
        head
        + f'<polygon points="{area}" fill="#4e79a7" fill-opacity="0.12"/>'
        + f'<polyline points="{coords}" fill="none" stroke="#4e79a7" stroke-width="1.5" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
        + f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2" fill="#2f5d8a"/>'
        + "</svg>"
    )


def days_per_block(days: int, width: int = SPARK_TEXT_WIDTH) -> int:
    """How many days one block of a text sparkline of ``days`` days holds, to fit ``width``."""
    return max(1, -(-days // width))


def sparkline_text(counts: Sequence[int], width: int = SPARK_TEXT_WIDTH) -> str:
    """Draw daily counts as unicode blocks (``▁▂▃▄▅▆▇█``), scaled from 0 to the largest.

    Args:
        counts: The counts, oldest first.
        width: The most blocks drawn: a longer window draws the mean of :func:`days_per_block`
            days a block.

    Returns:
        One block character per count (or per group of days); empty when there are none.
    """
    per = days_per_block(len(counts), width)
    # A block's mean per day: the newest block may hold fewer days than the others.
    values = [
        sum(max(0, int(c)) for c in counts[i : i + per]) / len(counts[i : i + per])
        for i in range(0, len(counts), per)
    ]
    top = max(values, default=0)
    if top == 0:
        return SPARK_BLOCKS[0] * len(values)
    last = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[min(last, round(v / top * last))] for v in values)


def stacked_bar_svg(segments: Sequence[tuple[float, str, str]], total: float = 1.0) -> Markup:
    """Draw a horizontal bar of ``(size, colour, label)`` segments on a track ``total`` long."""
    width, height = 1000, 22
    # Interpolated into f-strings (plain str), never added to one: str + Markup escapes the str.
    label = escape(", ".join(f"{name} {size:.3g}" for size, _, name in segments))
    out = [
        f'<svg class="bar" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'role="img" aria-label="{label}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" rx="3" fill="#eceff3"/>',
    ]
    x = 0.0
    scale = width / total if total > 0 else 0.0
    for size, colour, _ in segments:
        w = max(0.0, size) * scale
        if w <= 0:
            continue
        w = min(w, width - x)
        out.append(
            f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" '
            f'fill="{escape(colour)}" stroke="#ffffff" stroke-width="1"/>'
        )
        x += w
    out.append("</svg>")
    return Markup("".join(out))
