"""The survey report as files an agency can hand to its council: a self-contained HTML page
(charts inline), the same figures as JSON, and a CSV of every comparison."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

from victim_notify.surveys import charts
from victim_notify.surveys.analysis import analyse
from victim_notify.surveys.models import Experiment

CSV_COLUMNS = [
    "section", "segment", "segment_value", "key", "label", "kind", "n_a", "n_b", "value_a",
    "value_b", "difference", "difference_ci_low", "difference_ci_high", "relative",
    "relative_ci_low", "relative_ci_high", "p_value", "p_holm", "sentence",
]  # fmt: skip


def to_json(figures: dict[str, Any]) -> str:
    return json.dumps(_plain(figures), indent=2, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """Plain JSON values: numpy numbers as Python ones, tuples as lists, nan as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()

    def rows(section: str, items: list[dict[str, Any]], segment: str = "", value: str = ""):
        for row in _plain(items):
            low, high = row.get("difference_ci") or (None, None)
            rlow, rhigh = row.get("relative_ci") or (None, None)
            writer.writerow(
                row
                | {
                    "section": section,
                    "segment": segment,
                    "segment_value": value,
                    "difference_ci_low": low,
                    "difference_ci_high": high,
                    "relative_ci_low": rlow,
                    "relative_ci_high": rhigh,
                }
            )

    rows("intention_to_treat", figures["outcomes"])
    rows("opened_only", figures["opened_only"])
    for name, segments in figures["segments"].items():
        for segment in segments:
            rows("segment", segment["outcomes"], name, segment["value"])
    if figures["rollout"].get("phased"):
        rows("pilot_vs_rest", figures["rollout"]["pilot_vs_rest"])
    return out.getvalue()


def to_html(figures: dict[str, Any]) -> str:
    plain = _plain(figures)
    drawn = {
        "rates": charts.rates_chart(plain["outcomes"], "Group A and Group B, all randomized"),
        "response": charts.response_chart(plain["response"]),
        "over_time": charts.over_time_chart(plain["responses_over_time"])
        if plain["responses_over_time"]
        else "",
    }
    return render_to_string("surveys/report.html", {"f": plain, "charts": drawn})


def write_report(
    experiment: Experiment, directory: Path, *, effect: float = 0.05
) -> tuple[dict[str, Any], list[Path]]:
    """Writes SLUG.html, SLUG.json and SLUG.csv into `directory`; returns the figures and
    the paths written."""
    figures = analyse(experiment, effect=effect)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in (
        ("html", to_html(figures)),
        ("json", to_json(figures)),
        ("csv", to_csv(figures)),
    ):
        path = directory / f"{experiment.slug}.{suffix}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return figures, paths
