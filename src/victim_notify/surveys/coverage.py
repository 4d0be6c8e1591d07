"""A simulation study of the intervals and tests in statistics.py, at the sizes agencies run.

A 95% interval should contain the true effect in 95% of studies. Textbook guarantees are
asymptotic, and a 90/10 allocation leaves Group B with a few dozen respondents, so this draws
thousands of surveys from populations whose true effects are known (the sizes of the case
study's findings) and counts how often each interval covers them. The null scenarios draw
Group A like Group B and count how often the report would call something significant anyway.

Run ``python -m victim_notify.surveys.coverage`` for the table; it needs no Django settings.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from victim_notify.surveys.statistics import compare_means, compare_proportions, holm

RATINGS = np.arange(1, 6)
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class YesNoOutcome:
    name: str
    rate_a: float
    rate_b: float


@dataclass(frozen=True)
class RatingOutcome:
    """A 1-5 rating; probabilities are of answering 1, 2, 3, 4 and 5."""

    name: str
    probabilities_a: tuple[float, ...]
    probabilities_b: tuple[float, ...]

    @property
    def mean_a(self) -> float:
        return float(np.dot(RATINGS, self.probabilities_a))

    @property
    def mean_b(self) -> float:
        return float(np.dot(RATINGS, self.probabilities_b))


@dataclass(frozen=True)
class Scenario:
    name: str
    n_a: int
    n_b: int
    yes_no: tuple[YesNoOutcome, ...]
    rating: RatingOutcome

    def without_effect(self) -> Scenario:
        """The same outcomes with Group A drawn like Group B."""
        return replace(
            self,
            name=f"{self.name}, no effect",
            yes_no=tuple(replace(o, rate_a=o.rate_b) for o in self.yes_no),
            rating=replace(self.rating, probabilities_a=self.rating.probabilities_b),
        )


# The case study's findings, as population values: Group A was 16.6% more likely to prefer
# texts, 43% less likely to say they would call, 5.9% more likely to trust the police, and
# rated the service 8.4% higher (3.904 against 3.6).
CASE_STUDY_YES_NO = (
    YesNoOutcome("prefers texts", rate_a=0.50 * 1.166, rate_b=0.50),
    YesNoOutcome("likely to call", rate_a=0.40 * 0.57, rate_b=0.40),
    YesNoOutcome("trusts police", rate_a=0.70 * 1.059, rate_b=0.70),
)
CASE_STUDY_RATING = RatingOutcome(
    "service rating",
    probabilities_a=(0.06, 0.07, 0.168, 0.31, 0.392),
    probabilities_b=(0.10, 0.10, 0.20, 0.30, 0.30),
)
_SIZES = (("90/10, 360 vs 40", 360, 40), ("50/50, 1000 vs 1000", 1000, 1000), ("30 vs 30", 30, 30))
_WITH_EFFECT = tuple(
    Scenario(name, n_a, n_b, CASE_STUDY_YES_NO, CASE_STUDY_RATING) for name, n_a, n_b in _SIZES
)
SCENARIOS: tuple[Scenario, ...] = _WITH_EFFECT + tuple(s.without_effect() for s in _WITH_EFFECT)

DIFFERENCE = "difference (Newcombe)"
RATIO = "ratio (Katz log)"
MEAN_DIFFERENCE = "mean difference (Welch)"


@dataclass(frozen=True)
class CoverageRow:
    """How often one method's interval contained the true effect. A run whose interval could
    not be computed (the ratio with no yes in a group) is counted as not covering, since the
    report would show no interval for it; `undefined` says how many such runs there were."""

    scenario: str
    outcome: str
    method: str
    true_effect: float
    coverage: float
    runs: int
    undefined: int


@dataclass(frozen=True)
class FalsePositiveRow:
    """Share of runs, with no true effect at all, in which any outcome was called significant
    at 0.05: after Holm's correction (what the report does) and without it (for contrast)."""

    scenario: str
    outcomes: int
    rate: float
    uncorrected_rate: float
    runs: int


def coverage_study(runs: int = 2000, seed: int = 20261204) -> list[CoverageRow]:
    rows = []
    for scenario, simulated in zip(SCENARIOS, _simulate_all(runs, seed), strict=True):
        for (outcome, method), (true_effect, covered, undefined) in simulated.coverage.items():
            rows.append(
                CoverageRow(
                    scenario.name,
                    outcome,
                    method,
                    true_effect,
                    float(np.mean(covered)),
                    runs,
                    undefined,
                )
            )
    return rows


def false_positive_rate(runs: int = 2000, seed: int = 20261204) -> list[FalsePositiveRow]:
    """Only for the scenarios without an effect. The default seed is coverage_study's, so that
    running both reuses one simulation; the null scenarios are the same draws in both."""
    rows = []
    for scenario, simulated in zip(SCENARIOS, _simulate_all(runs, seed), strict=True):
        if not _is_null(scenario):
            continue
        corrected = uncorrected = 0
        with _collections_skip_existing_objects():
            for p_values in simulated.p_values:
                adjusted = holm(p_values)
                corrected += any(p is not None and p <= SIGNIFICANCE for p in adjusted)
                uncorrected += any(p is not None and p <= SIGNIFICANCE for p in p_values)
        rows.append(
            FalsePositiveRow(
                scenario.name,
                len(scenario.yes_no) + 1,
                corrected / runs,
                uncorrected / runs,
                runs,
            )
        )
    return rows


def format_table(
    coverage: Sequence[CoverageRow], false_positives: Sequence[FalsePositiveRow]
) -> str:
    lines = [
        "How often the 95% interval contained the true effect"
        " (a run with no interval counts as a miss)",
        "",
        f"{'scenario':<31} {'outcome':<15} {'method':<24} {'true effect':>11} {'covered':>8}"
        f" {'no interval':>11} {'runs':>5}",
    ]
    for row in coverage:
        sign = "" if row.method == RATIO else "+"
        lines.append(
            f"{row.scenario:<31} {row.outcome:<15} {row.method:<24}"
            f" {row.true_effect:>{sign}11.3f} {row.coverage:>8.1%}"
            f" {row.undefined:>11} {row.runs:>5}"
        )
    lines += [
        "",
        "Runs with no true effect in which any outcome was called significant at 0.05",
        "",
        f"{'scenario':<31} {'outcomes':>8} {'after Holm':>10} {'uncorrected':>11} {'runs':>5}",
    ]
    for fp in false_positives:
        lines.append(
            f"{fp.scenario:<31} {fp.outcomes:>8} {fp.rate:>10.1%} {fp.uncorrected_rate:>11.1%}"
            f" {fp.runs:>5}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class _Simulated:
    # (outcome, method) -> (true effect, covered flag per run, runs without an interval)
    coverage: dict[tuple[str, str], tuple[float, np.ndarray, int]]
    # per run, the unadjusted p-value of every outcome, in the scenario's order
    p_values: list[list[float | None]]


@functools.cache
def _simulate_all(runs: int, seed: int) -> tuple[_Simulated, ...]:
    # One independent stream per scenario, so adding a scenario does not change the others.
    streams = np.random.SeedSequence(seed).spawn(len(SCENARIOS))
    return tuple(
        _simulate(scenario, runs, np.random.default_rng(stream))
        for scenario, stream in zip(SCENARIOS, streams, strict=True)
    )


def _simulate(scenario: Scenario, runs: int, rng: np.random.Generator) -> _Simulated:
    coverage: dict[tuple[str, str], tuple[float, np.ndarray, int]] = {}
    p_values: list[list[float | None]] = [[] for _ in range(runs)]
    # Identical counts give identical intervals, and small groups repeat counts often; the
    # statsmodels calls are the slow part, so reuse them. Exact, not an approximation.
    compare = functools.cache(compare_proportions)

    for outcome in scenario.yes_no:
        x_a = rng.binomial(scenario.n_a, outcome.rate_a, size=runs)
        x_b = rng.binomial(scenario.n_b, outcome.rate_b, size=runs)
        results = [
            compare(int(a), scenario.n_a, int(b), scenario.n_b)
            for a, b in zip(x_a, x_b, strict=True)
        ]
        coverage[(outcome.name, DIFFERENCE)] = _covered(
            outcome.rate_a - outcome.rate_b, [r.difference_ci for r in results]
        )
        coverage[(outcome.name, RATIO)] = _covered(
            outcome.rate_a / outcome.rate_b, [r.ratio_ci for r in results]
        )
        for run, result in enumerate(results):
            p_values[run].append(result.p_value)

    rating = scenario.rating
    counts_a = rng.multinomial(scenario.n_a, rating.probabilities_a, size=runs)
    counts_b = rng.multinomial(scenario.n_b, rating.probabilities_b, size=runs)
    means = [
        compare_means(np.repeat(RATINGS, a), np.repeat(RATINGS, b), rank_test=False)
        for a, b in zip(counts_a, counts_b, strict=True)
    ]
    coverage[(rating.name, MEAN_DIFFERENCE)] = _covered(
        rating.mean_a - rating.mean_b, [m.difference_ci for m in means]
    )
    for run, mean in enumerate(means):
        p_values[run].append(mean.p_value)
    return _Simulated(coverage, p_values)


def _covered(
    true_effect: float, intervals: Sequence[tuple[float, float] | None]
) -> tuple[float, np.ndarray, int]:
    covered = np.array([ci is not None and ci[0] <= true_effect <= ci[1] for ci in intervals])
    return true_effect, covered, sum(ci is None for ci in intervals)


@contextlib.contextmanager
def _collections_skip_existing_objects() -> Iterator[None]:
    # statsmodels' Holm correction calls gc.collect() every time (to free memory after huge
    # arrays). With numpy, scipy and statsmodels loaded, a full collection takes about 60 ms,
    # so 6,000 calls would take six minutes. Frozen objects are left out of collections; the
    # ones created meanwhile are still collected, and unfreezing returns the rest to the heap.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _is_null(scenario: Scenario) -> bool:
    return all(o.rate_a == o.rate_b for o in scenario.yes_no) and (
        scenario.rating.probabilities_a == scenario.rating.probabilities_b
    )


def main() -> None:
    print(format_table(coverage_study(), false_positive_rate()))


if __name__ == "__main__":
    main()
