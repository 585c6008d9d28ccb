#!/usr/bin/env python3
"""Draws the paired runner's ratios to raw epoll as an SVG bar chart.

    cd bench   # cargo starts the runner here, so its --tsv path is relative to bench/ too
    cargo bench -p pollio-bench --bench compare -- --tsv results.tsv
    python3 chart.py results.tsv ratios.svg

Each bar starts at 1.0 (as fast as raw epoll) and ends at the implementation's median
per-round ratio; the thin line across it spans the 25th-75th percentiles. The axis is
logarithmic from 0.5x to 2x so that a few percent stay visible; longer bars are cut at the
edge and labelled with their value. Standard library only.
"""

import csv
import math
import sys
from xml.sax.saxutils import escape

COLORS = {
    "pollio": "#1b7837",
    "pollio-into": "#5aae61",
    "pollio-seed": "#a6dba0",
    "mio": "#2166ac",
    "polling": "#b2182b",
}
NAMES = {
    "pollio": "pollio",
    "pollio-into": "pollio poll_into",
    "pollio-seed": "pollio wait(i32)",
    "mio": "mio",
    "polling": "polling",
}
LOW, HIGH = 0.5, 2.0  # axis range (ratio to raw epoll)
LEFT, PLOT, RIGHT = 150, 560, 90  # label column, plot width, value column (px)
ROW, GAP, TOP = 13, 10, 70  # bar row height, gap between workloads, header height (px)


def x_of(ratio):
    """Horizontal position of a ratio on the log axis, clamped to the plot."""
    ratio = min(max(ratio, LOW), HIGH)
    span = math.log(HIGH) - math.log(LOW)
    return LEFT + PLOT * (math.log(ratio) - math.log(LOW)) / span


def read(path):
    """Workloads in file order, each with its (key, label, ratio, p25, p75) rows."""
    workloads = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["key"] == "raw":
                continue
            bars = workloads.setdefault(row["workload"], [])
            bars.append(
                (
                    row["key"],
                    row["implementation"],
                    float(row["ratio"]),
                    float(row["p25"]),
                    float(row["p75"]),
                )
            )
    return workloads


def svg(workloads):
    rows = sum(len(bars) for bars in workloads.values())
    height = TOP + rows * ROW + len(workloads) * GAP + 30
    width = LEFT + PLOT + RIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">'
        "Time per operation relative to raw epoll (median of per-round ratios)</text>",
        f'<text x="{LEFT}" y="34" fill="#555">left of 1.0: faster than raw epoll; '
        "right: slower; line: 25th-75th percentile</text>",
    ]
    # Legend.
    x = LEFT
    for key in ("pollio", "pollio-into", "pollio-seed", "mio", "polling"):
        out.append(f'<rect x="{x}" y="44" width="10" height="10" fill="{COLORS[key]}"/>')
        out.append(f'<text x="{x + 14}" y="53">{NAMES[key]}</text>')
        x += 24 + 7 * len(NAMES[key])
    # Grid lines and axis labels.
    bottom = height - 24
    for tick in (0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0):
        tx = x_of(tick)
        stroke = "#333" if tick == 1.0 else "#ddd"
        out.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{bottom}" stroke="{stroke}"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle">{tick:g}x</text>')
    # Bars.
    y = TOP
    one = x_of(1.0)
    for workload, bars in workloads.items():
        out.append(
            f'<text x="{LEFT - 8}" y="{y + ROW * len(bars) / 2 + 4:.1f}" '
            f'text-anchor="end" font-weight="bold">{escape(workload)}</text>'
        )
        for key, label, ratio, p25, p75 in bars:
            end = x_of(ratio)
            left, right = sorted((one, end))
            color = COLORS.get(key, "#888")
            out.append(
                f'<rect x="{left:.1f}" y="{y + 1}" width="{max(right - left, 1):.1f}" '
                f'height="{ROW - 3}" fill="{color}"><title>{escape(label)}: {ratio:.3f} '
                f"(p25-p75 {p25:.3f}-{p75:.3f})</title></rect>"
            )
            mid = y + (ROW - 1) / 2
            out.append(
                f'<line x1="{x_of(p25):.1f}" y1="{mid:.1f}" x2="{x_of(p75):.1f}" y2="{mid:.1f}" '
                'stroke="black" stroke-width="1"/>'
            )
            cut = " (cut)" if not LOW <= ratio <= HIGH else ""
            out.append(
                f'<text x="{LEFT + PLOT + 6}" y="{y + ROW - 3}" fill="{color}">'
                f"{ratio:.3f}{cut}</text>"
            )
            y += ROW
        y += GAP
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py RESULTS.tsv OUT.svg")
    workloads = read(sys.argv[1])
    if not workloads:
        sys.exit(f"no ratios in {sys.argv[1]}")
    with open(sys.argv[2], "w") as f:
        f.write(svg(workloads))


if __name__ == "__main__":
    main()
