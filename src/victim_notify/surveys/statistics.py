"""Comparisons between Group A (notified) and Group B (control) for the survey report.

Every interval and test comes from statsmodels or scipy; this module only chooses the method,
guards the edge cases that small pilots produce (empty groups, zero counts, no variation) and
returns None there instead of raising or leaking nan into a report.

No Django imports: the coverage study runs this code thousands of times without settings.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

Interval = tuple[float, float]


@dataclass(frozen=True)
class ProportionComparison:
    """A yes/no outcome in Group A against Group B. Fields that need a respondent in each
    group are None without one; the ratio is None when Group B has no yes, and its interval
    when either group has no yes or both answered yes unanimously."""

    x_a: int
    n_a: int
    x_b: int
    n_b: int
    rate_a: float | None
    rate_b: float | None
    difference: float | None
    difference_ci: Interval | None
    ratio: float | None
    ratio_ci: Interval | None
    p_value: float | None

    @property
    def relative(self) -> float | None:
        """How reports phrase the ratio: 0.166 reads "Group A was 16.6% more likely"."""
        return None if self.ratio is None else self.ratio - 1

    @property
    def relative_ci(self) -> Interval | None:
        if self.ratio_ci is None:
            return None
        return (self.ratio_ci[0] - 1, self.ratio_ci[1] - 1)


def compare_proportions(
    x_a: int, n_a: int, x_b: int, n_b: int, confidence: float = 0.95
) -> ProportionComparison:
    """Compare the share answering yes in Group A (x_a of n_a) with Group B (x_b of n_b).

    The difference interval is Newcombe's hybrid score interval (method 10 of Newcombe 1998),
    which keeps its coverage at small n and at 0% or 100%, where the Wald interval collapses.
    The ratio interval is Katz's log interval, which needs a yes in both groups (see
    ProportionComparison for when it is None).
    """
    x_a, n_a, x_b, n_b = (
        _count(value, name)
        for value, name in ((x_a, "x_a"), (n_a, "n_a"), (x_b, "x_b"), (n_b, "n_b"))
    )
    for x, n, group in ((x_a, n_a, "A"), (x_b, n_b, "B")):
        if x > n:
            raise ValueError(f"Group {group}: {x} yes answers out of {n} respondents")
    _check_confidence(confidence)

    rate_a = x_a / n_a if n_a else None
    rate_b = x_b / n_b if n_b else None
    if rate_a is None or rate_b is None:
        return ProportionComparison(
            x_a, n_a, x_b, n_b, rate_a, rate_b, None, None, None, None, None
        )

    alpha = 1 - confidence
    difference_ci = _floats(
        confint_proportions_2indep(
            x_a, n_a, x_b, n_b, method="newcomb", compare="diff", alpha=alpha
        )
    )
    ratio = rate_a / rate_b if rate_b > 0 else None
    ratio_ci = None
    # The Katz variance is 1/x_a - 1/n_a + 1/x_b - 1/n_b: infinite with a zero count and zero
    # when both groups answered yes unanimously, which would print a zero-width interval.
    if x_a > 0 and x_b > 0 and not (x_a == n_a and x_b == n_b):
        ratio_ci = _floats(
            confint_proportions_2indep(
                x_a, n_a, x_b, n_b, method="log", compare="ratio", alpha=alpha
            )
        )
    return ProportionComparison(
        x_a,
        n_a,
        x_b,
        n_b,
        rate_a,
        rate_b,
        rate_a - rate_b,
        difference_ci,
        ratio,
        ratio_ci,
        _proportions_p_value(x_a, n_a, x_b, n_b),
    )


def _proportions_p_value(x_a: int, n_a: int, x_b: int, n_b: int) -> float:
    # The score test with Miettinen and Nurminen's n/(n-1) correction, which at a difference
    # of zero is the 'N-1' chi-squared test that Campbell (2007, Statistics in Medicine
    # 26:3661) recommends for small samples whenever every expected count is at least 1 (he
    # prefers Fisher's below that, which takes a group of a handful of respondents). Not
    # Fisher's exact test throughout: both are defined with zero cells, but Fisher's is
    # markedly conservative at pilot sizes (at 30 per group it rejects about half as often as
    # its nominal 5%), while the score test stays close to nominal.
    if x_a + x_b in (0, n_a + n_b):
        # Everyone answered alike, so the statistic is 0/0; the rates are identical and every
        # test of equality, Fisher's included, gives 1.
        return 1.0
    with warnings.catch_warnings():
        # statsmodels also computes the ratio and odds ratio for its result object and warns
        # when a group has no yes; the score test of the difference does not use them.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = test_proportions_2indep(x_a, n_a, x_b, n_b, method="score", compare="diff")
    return float(result.pvalue)


@dataclass(frozen=True)
class MeanComparison:
    """A numeric outcome, such as a 1-5 service rating, in Group A against Group B."""

    n_a: int
    n_b: int
    mean_a: float | None
    mean_b: float | None
    sd_a: float | None
    sd_b: float | None
    difference: float | None
    difference_ci: Interval | None
    relative: float | None
    p_value: float | None
    mann_whitney_p: float | None


def compare_means(
    a: Sequence[float] | npt.NDArray[Any],
    b: Sequence[float] | npt.NDArray[Any],
    confidence: float = 0.95,
    *,
    rank_test: bool = True,
) -> MeanComparison:
    """Compare Group A's values with Group B's.

    Welch's interval and test, because the groups differ in size (90/10 allocations) and there
    is no reason to assume equal variances. Mann-Whitney is given alongside because ratings on
    a 1-5 scale are ordinal, and a reader may not accept a difference of means for them;
    rank_test=False leaves it out (None) for callers that compare thousands of samples and do
    not use it, since it is a third of the cost.
    """
    _check_confidence(confidence)
    values_a = np.asarray(a, dtype=float)
    values_b = np.asarray(b, dtype=float)
    n_a, n_b = len(values_a), len(values_b)
    mean_a = float(values_a.mean()) if n_a else None
    mean_b = float(values_b.mean()) if n_b else None
    sd_a = float(values_a.std(ddof=1)) if n_a >= 2 else None
    sd_b = float(values_b.std(ddof=1)) if n_b >= 2 else None

    difference = relative = None
    if mean_a is not None and mean_b is not None:
        difference = mean_a - mean_b
        relative = difference / mean_b if mean_b != 0 else None

    difference_ci = p_value = None
    # Welch needs a variance from each group, and at least one of them above zero.
    if sd_a is not None and sd_b is not None and (sd_a > 0 or sd_b > 0):
        with warnings.catch_warnings():
            # scipy warns of "precision loss" for a group whose values are all equal; the
            # variance is exactly zero there, which Welch's formula handles.
            warnings.simplefilter("ignore", RuntimeWarning)
            welch = stats.ttest_ind(values_a, values_b, equal_var=False)
            difference_ci = _floats(welch.confidence_interval(confidence_level=confidence))
        p_value = float(welch.pvalue)

    mann_whitney_p = None
    if rank_test and n_a and n_b:
        mann_whitney_p = float(
            stats.mannwhitneyu(values_a, values_b, alternative="two-sided").pvalue
        )
    return MeanComparison(
        n_a,
        n_b,
        mean_a,
        mean_b,
        sd_a,
        sd_b,
        difference,
        difference_ci,
        relative,
        p_value,
        mann_whitney_p,
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values, in the order given.

    None marks an outcome that could not be tested; it stays None and does not count towards
    the number of comparisons, since no conclusion can be drawn from it.

    statsmodels runs a full garbage collection on every Holm call, about 60 ms once scipy and
    statsmodels are loaded: nothing for a report, minutes for a simulation (see coverage.py).
    """
    present = [p for p in p_values if p is not None]
    if not present:
        return list(p_values)
    adjusted = iter(multipletests(present, method="holm")[1])
    return [None if p is None else float(next(adjusted)) for p in p_values]


def minimum_detectable_difference(
    rate_b: float, n_a: int, n_b: int, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """The smallest increase over rate_b in a yes/no outcome that n_a and n_b can detect.

    None when a group is empty, or when even a rate of 100% in Group A would not be detectable.
    """
    _check_rate(rate_b, "rate_b")
    if n_a <= 0 or n_b <= 0:
        return None
    effect = NormalIndPower().solve_power(
        effect_size=None, nobs1=n_a, alpha=alpha, power=power, ratio=n_b / n_a
    )
    # Cohen's h is 2*asin(sqrt(p_a)) - 2*asin(sqrt(p_b)) (proportion_effectsize); statsmodels
    # has no inverse, so turn h back into a rate here.
    angle = math.asin(math.sqrt(rate_b)) + float(effect) / 2
    if angle > math.pi / 2:
        return None
    return math.sin(angle) ** 2 - rate_b


def sample_size_for(
    rate_b: float, difference: float, share_a: float, alpha: float = 0.05, power: float = 0.8
) -> tuple[int, int]:
    """Respondents needed in Group A and Group B to detect rate_b + difference against rate_b,
    when a share_a of respondents are in Group A."""
    _check_rate(rate_b, "rate_b")
    _check_rate(rate_b + difference, "rate_b + difference")
    if difference == 0:
        raise ValueError("No sample size can detect a difference of zero")
    if not 0 < share_a < 1:
        raise ValueError(f"share_a must be between 0 and 1, not {share_a}")
    ratio = (1 - share_a) / share_a
    effect = abs(proportion_effectsize(rate_b + difference, rate_b))
    n_a = NormalIndPower().solve_power(
        effect_size=effect, nobs1=None, alpha=alpha, power=power, ratio=ratio
    )
    return math.ceil(float(n_a)), math.ceil(float(n_a) * ratio)


@dataclass(frozen=True)
class DiffInDiff:
    """The phased rollout's effect: the change in the late divisions minus the change in the
    pilot ("early") division, across the late divisions' go-live date."""

    estimate: float
    ci: Interval
    p_value: float
    n: int
    cells: dict[str, tuple[int, float]]


def difference_in_differences(
    rows: Sequence[tuple[float, bool, bool]], confidence: float = 0.95
) -> DiffInDiff | None:
    """Estimate from (outcome, in_late_group, after_change) rows.

    A linear probability model, so the estimate reads in percentage points, with HC1 standard
    errors because a yes/no outcome's variance depends on its rate and so differs across cells.
    None when a cell is empty (the interaction is not identified) or when no cell varies
    (nothing to estimate the uncertainty from).
    """
    _check_confidence(confidence)
    data = np.asarray(rows, dtype=float).reshape(-1, 3)
    outcome, late, after = data[:, 0], data[:, 1], data[:, 2]
    cells: dict[str, tuple[int, float]] = {}
    varies = False
    for group, is_late in (("early", 0.0), ("late", 1.0)):
        for period, is_after in (("before", 0.0), ("after", 1.0)):
            in_cell = outcome[(late == is_late) & (after == is_after)]
            if len(in_cell) == 0:
                return None
            cells[f"{group}_{period}"] = (len(in_cell), float(in_cell.mean()))
            varies = varies or bool(np.ptp(in_cell) > 0)
    if not varies:
        # The model fits every row exactly, so the residuals, and the standard error built
        # from them, are zero up to rounding: an interval would claim certainty it lacks.
        return None

    design = np.column_stack([np.ones(len(outcome)), late, after, late * after])
    fit = sm.OLS(outcome, design).fit(cov_type="HC1")
    low, high = fit.conf_int(alpha=1 - confidence)[3]
    return DiffInDiff(
        estimate=float(fit.params[3]),
        ci=(float(low), float(high)),
        p_value=float(fit.pvalues[3]),
        n=len(outcome),
        cells=cells,
    )


def _count(value: int, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a count, not {value!r}")
    try:
        count = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if count < 0:
        raise ValueError(f"{name} must not be negative, not {count}")
    return count


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


def _check_rate(rate: float, name: str) -> None:
    if not 0 <= rate <= 1:
        raise ValueError(f"{name} must be between 0 and 1, not {rate}")


def _floats(pair: Sequence[float]) -> Interval:
    return (float(pair[0]), float(pair[1]))
