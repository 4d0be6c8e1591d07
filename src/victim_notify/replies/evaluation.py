"""Score the reply matchers against the hand-labelled sets in `data/`.

    python -m victim_notify.replies.evaluation --split test
    python -m victim_notify.replies.evaluation --split tune --misses

Tune by reading the `tune` split's misses only; the `test` split is for the figures that are
reported (data/README.md).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from victim_notify.replies import matchers

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLITS = ("tune", "test")
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    language: str
    split: str


@dataclass(frozen=True)
class Matcher:
    """A matcher under test: its labelled file, which label is positive, and how to predict."""

    name: str
    filename: str
    positive: str
    predict: Callable[[str], bool]


MATCHERS: dict[str, Matcher] = {
    "opt_out": Matcher("opt_out", "opt_out_labelled.csv", "opt_out", matchers.is_opt_out),
    "urgency": Matcher(
        "urgency", "urgency_labelled.csv", "urgent", lambda text: bool(matchers.urgency(text))
    ),
}


@dataclass(frozen=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        # No positive predictions: report 0 rather than flatter an empty matcher.
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def load(matcher: str) -> list[Row]:
    """Every row of a matcher's labelled set, checked for unknown labels, languages, splits."""
    m = MATCHERS[matcher]
    with (DATA_DIR / m.filename).open(encoding="utf-8", newline="") as f:
        rows = [Row(r["text"], r["label"], r["language"], r["split"]) for r in csv.DictReader(f)]
    for row in rows:
        if row.label not in (m.positive, "not") or row.language not in LANGUAGES:
            raise ValueError(f"{m.filename}: bad label or language in {row!r}")
        if row.split not in SPLITS:
            raise ValueError(f"{m.filename}: bad split in {row!r}")
    return rows


def select(rows: Iterable[Row], split: str | None = None, language: str | None = None) -> list[Row]:
    return [
        r
        for r in rows
        if (split is None or r.split == split) and (language is None or r.language == language)
    ]


def score(matcher: str, split: str | None = "test", language: str | None = None) -> Scores:
    """Counts and rates of one matcher on one split (None: all rows), optionally one language."""
    m = MATCHERS[matcher]
    tp = fp = fn = tn = 0
    for row in select(load(matcher), split, language):
        predicted, actual = m.predict(row.text), row.label == m.positive
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
        tn += not predicted and not actual
    return Scores(tp, fp, fn, tn)


def misclassified(
    matcher: str, split: str | None = "test", language: str | None = None
) -> list[tuple[Row, bool]]:
    """The rows the matcher gets wrong, each with what it predicted (True = positive)."""
    m = MATCHERS[matcher]
    misses = []
    for row in select(load(matcher), split, language):
        predicted = m.predict(row.text)
        if predicted != (row.label == m.positive):
            misses.append((row, predicted))
    return misses


def format_table(split: str | None) -> list[str]:
    lines = [
        f"split={split or 'all'}",
        f"{'matcher':<9} {'lang':<4} {'n':>4} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4}"
        f" {'precision':>9} {'recall':>7} {'F1':>6}",
    ]
    for name in MATCHERS:
        for language in (None, *LANGUAGES):
            s = score(name, split, language)
            lines.append(
                f"{name:<9} {language or 'all':<4} {s.total:>4} {s.tp:>4} {s.fp:>4} {s.fn:>4}"
                f" {s.tn:>4} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="test")
    parser.add_argument("--misses", action="store_true", help="list misclassified rows")
    args = parser.parse_args(argv)
    split = None if args.split == "all" else args.split
    for line in format_table(split):
        print(line)
    if args.misses:
        for name, m in MATCHERS.items():
            print(f"\n{name} misclassified ({split or 'all'}):")
            for row, predicted in misclassified(name, split):
                kind = f"false {m.positive}" if predicted else f"missed {m.positive}"
                print(f"  [{row.language}] {kind:<16} {row.text!r}")


if __name__ == "__main__":
    main()
