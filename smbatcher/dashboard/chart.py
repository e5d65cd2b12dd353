"""SVG drawn on the server: the throughput chart and the per-batch progress bars.

Server-side SVG needs no chart library in the browser (nothing to vendor, works
offline) and is a plain string the SSE stream can push. Geometry is in
attributes, never inline ``style``, so the pages' Content-Security-Policy can
forbid inline styles; colours come from the stylesheet's classes.
"""

from __future__ import annotations

import math
import time
from collections import Counter

from markupsafe import Markup, escape

from .eventlog import SERIES

BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120)  # minutes per point
MAX_POINTS = 60
MAX_WINDOW = 12 * 3600  # an overnight run fits; older history is in `smb history`
MIN_WINDOW = 30 * 60
SERIES_LABELS = {"design": "designed", "implement": "implemented", "finish": "finished"}


def _nice_ceiling(value: float) -> float:
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def throughput_series(minutes: dict[str, Counter], first: float | None, now: float) -> dict:
    """Sites per minute per series, in buckets over the window: the numbers behind the chart."""
    start = max(now - MAX_WINDOW, first if first is not None else now - MIN_WINDOW)
    start = min(start, now - MIN_WINDOW)
    span_min = (now - start) / 60
    bucket = next((b for b in BUCKETS if span_min / b <= MAX_POINTS), BUCKETS[-1])
    first_minute = int(start // 60) // bucket * bucket
    last_minute = int(now // 60)
    count = (last_minute - first_minute) // bucket + 1
    values = {}
    for name in SERIES:
        sums = [0] * count
        for minute, n in (minutes.get(name) or {}).items():
            if first_minute <= minute <= last_minute:
                sums[(minute - first_minute) // bucket] += n
        values[name] = [s / bucket for s in sums]
    return {"bucket_minutes": bucket, "start": first_minute * 60, "points": count, "values": values}


def throughput_svg(data: dict, width: int = 760, height: int = 220) -> Markup:
    """The chart of ``throughput_series``' numbers."""
    bucket, count, values = data["bucket_minutes"], data["points"], data["values"]
    left, right, top, bottom = 44, 24, 28, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((max(v) for v in values.values() if v), default=0.0)
    ymax = _nice_ceiling(peak)

    def x(i: float) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / ymax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="sites completed per minute, in {bucket}-minute steps">',
           f"<title>Throughput: sites per minute ({bucket}-minute steps)</title>"]
    for fraction in (0, 0.5, 1):
        gy = y(ymax * fraction)
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        out.append(f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                   f"{escape(_fmt(ymax * fraction))}</text>")
    ticks = max(1, (count - 1) // 6)
    for i in range(0, count, ticks):
        label = time.strftime("%H:%M", time.localtime(data["start"] + i * bucket * 60))
        anchor = "end" if i == count - 1 and count > 1 else "middle"
        out.append(f'<text class="axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}">{escape(label)}</text>')
    out.append(f'<text class="axis" x="{left}" y="14">sites/min</text>')
    legend_x = width - right
    for name in reversed(SERIES):
        total = round(sum(values[name]) * bucket)
        label = f"{SERIES_LABELS[name]} {total}"
        legend_x -= 14 + 7 * len(label)
        out.append(f'<rect class="key series-{name}" x="{legend_x}" y="6" width="10" height="10" rx="2"/>')
        out.append(f'<text class="legend" x="{legend_x + 14}" y="15">{escape(label)}</text>')
    if peak == 0:
        empty = ("reading the event log…" if data.get("loading")
                 else "no site has finished a step in this window yet")
        out.append(f'<text class="empty" x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
                   f'text-anchor="middle">{escape(empty)}</text>')
    else:
        for name in SERIES:
            if not any(values[name]):
                continue
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values[name]))
            out.append(f'<polyline class="line series-{name}" points="{points}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def progress_svg(counts: dict[str, int], total: int, order: tuple[str, ...], class_of, name_of) -> Markup:
    """One stacked bar: a segment per status, widths in a 1000-unit viewBox stretched by CSS."""
    out = ['<svg xmlns="http://www.w3.org/2000/svg" class="bar" viewBox="0 0 1000 12" preserveAspectRatio="none" '
           f'role="img" aria-label="{escape(_bar_label(counts, total, order, name_of))}">']
    if not total:
        out.append('<rect class="s-empty" x="0" y="0" width="1000" height="12"/>')
    offset = 0.0
    for status in order:
        n = counts.get(status, 0)
        if not n or not total:
            continue
        w = 1000 * n / total
        out.append(f'<rect class="{class_of(status)}" x="{offset:.2f}" y="0" width="{w:.2f}" height="12">'
                   f"<title>{escape(status)} {escape(name_of(status))}: {n}</title></rect>")
        offset += w
    out.append("</svg>")
    return Markup("".join(out))


def _bar_label(counts: dict[str, int], total: int, order, name_of) -> str:
    parts = [f"{counts.get(s, 0)} {name_of(s)}" for s in order if counts.get(s, 0)]
    return f"{total} sites: " + ", ".join(parts) if parts else "no sites"
