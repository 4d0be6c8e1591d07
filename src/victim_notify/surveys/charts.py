"""The report's charts, drawn with matplotlib as SVG text to put straight into the page.

Figures are made without pyplot, so web requests on several threads can draw at once.
Colours are the Okabe-Ito palette, which people with any common colour blindness tell apart;
every series also differs by marker and is named in a legend, never by colour alone."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import matplotlib
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

GROUP_A = "#0072B2"  # blue
GROUP_B = "#E69F00"  # orange
matplotlib.rcParams.update(
    {"font.size": 10, "svg.fonttype": "none", "axes.spines.top": False, "axes.spines.right": False}
)


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Title": title})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: it goes inside HTML


def rates_chart(rows: list[dict[str, Any]], title: str) -> str:
    """Each proportion outcome's rate in both groups with 95% Wilson intervals as whiskers."""
    from statsmodels.stats.proportion import proportion_confint

    shown = [r for r in rows if r["kind"] == "proportion" and r["n_a"] and r["n_b"]]
    figure = Figure(figsize=(7, 0.55 * len(shown) + 1.3))
    axes = figure.subplots()
    for offset, (group, colour, marker) in enumerate((("a", GROUP_A, "o"), ("b", GROUP_B, "s"))):
        ys = [i + (0.15 if offset == 0 else -0.15) for i in range(len(shown))]
        xs, lows, highs = [], [], []
        for row in shown:
            x, n = row[f"x_{group}"], row[f"n_{group}"]
            low, high = proportion_confint(x, n, method="wilson")
            xs.append(x / n * 100)
            lows.append(x / n * 100 - low * 100)
            highs.append(high * 100 - x / n * 100)
        axes.errorbar(
            xs,
            ys,
            xerr=[lows, highs],
            fmt=marker,
            color=colour,
            capsize=3,
            label=f"Group {group.upper()}",
        )
    axes.set_yticks(range(len(shown)), [r["label"].capitalize() for r in shown])
    axes.invert_yaxis()
    axes.set_xlabel("Share of those who answered the question (%), with 95% interval")
    axes.set_xlim(0, 100)
    axes.legend(loc="lower right", frameon=False)
    axes.set_title(title, loc="left")
    return _svg(figure, title)


def response_chart(response: dict[str, Any]) -> str:
    title = "Who answered the survey"
    figure = Figure(figsize=(7, 1.9))
    axes = figure.subplots()
    for i, (group, colour) in enumerate((("A", GROUP_A), ("B", GROUP_B))):
        figures = response[group]
        rate = (figures["rate"] or 0) * 100
        axes.barh(i, rate, color=colour, height=0.55)
        axes.text(
            rate + 1,
            i,
            f"{rate:.1f}% ({figures['responded']} of {figures['surveyed']})",
            va="center",
        )
    axes.set_yticks([0, 1], ["Group A", "Group B"])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("Response rate among those surveyed (%)")
    axes.set_title(title, loc="left")
    return _svg(figure, title)


def over_time_chart(series: list[dict[str, Any]]) -> str:
    title = "Responses received over time"
    figure = Figure(figsize=(7, 2.6))
    axes = figure.subplots()
    days = [dt.date.fromisoformat(row["date"]) for row in series]
    # matplotlib plots dates through its unit converters; its hints name only arrays.
    axes.step(
        days,  # type: ignore[arg-type]
        [row["A"] for row in series],
        where="post",
        color=GROUP_A,
        marker="o",
        markersize=3,
        label="Group A",
    )
    axes.step(
        days,  # type: ignore[arg-type]
        [row["B"] for row in series],
        where="post",
        color=GROUP_B,
        marker="s",
        markersize=3,
        linestyle="--",
        label="Group B",
    )
    axes.set_ylabel("People who answered")
    axes.xaxis.set_major_formatter(DateFormatter("%b %-d"))
    figure.autofmt_xdate()
    axes.legend(frameon=False)
    axes.set_title(title, loc="left")
    return _svg(figure, title)
