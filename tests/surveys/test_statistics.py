"""The report's statistics against published worked examples, and at the edges small pilots
reach: empty groups, zero counts, no variation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import relative_risk

from victim_notify.surveys.statistics import (
    compare_means,
    compare_proportions,
    difference_in_differences,
    holm,
    minimum_detectable_difference,
    sample_size_for,
)

# Newcombe RG (1998). Interval estimation for the difference between independent proportions:
# comparison of eleven methods. Statistics in Medicine 17:873-890, Table II, method 10 (hybrid
# score interval without continuity correction), examples (a), (b), (c) and (f).
NEWCOMBE_1998_METHOD_10 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_1998_METHOD_10)
def test_difference_interval_reproduces_newcombe_1998(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    low, high = compare_proportions(*counts).difference_ci
    assert (round(low, 4), round(high, 4)) == published


def test_ratio_interval_reproduces_fagerland_lydersen_laake_2017() -> None:
    """Fagerland MW, Lydersen S, Laake P (2017). Statistical Analysis of Contingency Tables,
    Chapman & Hall/CRC, chapter 4: the randomised trial of high against standard dose of
    epinephrine (Perondi et al. 2004), 7 of 34 against 1 of 34 survivors. Ratio 7.0, Katz log
    interval 0.9096 to 53.8695, as printed by the book's companion R package contingencytables
    (`Katz_log_CI_2x2(perondi_2004)`: "estimate = 7.0000 (95% CI 0.9096 to 53.8695)")."""
    result = compare_proportions(7, 34, 1, 34)

    assert result.ratio == pytest.approx(7.0)
    low, high = result.ratio_ci
    assert (round(low, 4), round(high, 4)) == (0.9096, 53.8695)
    # The way the report phrases it: six times as likely, anywhere from 9% less to 52.9 times.
    assert result.relative == pytest.approx(6.0)
    assert result.relative_ci == pytest.approx((low - 1, high - 1))


def test_ratio_interval_reproduces_sahai_khurshid_example_3_1() -> None:
    """Sahai H, Khurshid A (1996). Statistics in Epidemiology, CRC Press, Example 3.1: coronary
    heart disease in 27 of 122 men with high catecholamine against 44 of 487 with low. scipy
    documents this example for its own Katz implementation, printing 2.4495156482861398 and
    (1.5836990926700116, 3.7886786315466354); both sources must agree with ours."""
    result = compare_proportions(27, 122, 44, 487)

    assert result.ratio == pytest.approx(2.4495156482861398)
    assert result.ratio_ci == pytest.approx((1.5836990926700116, 3.7886786315466354))
    scipy_ci = relative_risk(27, 122, 44, 487).confidence_interval(confidence_level=0.95)
    assert result.ratio_ci == pytest.approx((scipy_ci.low, scipy_ci.high))


def test_ratio_interval_narrows_with_lower_confidence() -> None:
    wide = compare_proportions(27, 122, 44, 487, confidence=0.99).ratio_ci
    narrow = compare_proportions(27, 122, 44, 487, confidence=0.90).ratio_ci
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize("counts", [(56, 70, 48, 80), (5, 56, 0, 29), (3, 30, 8, 30), (1, 2, 0, 5)])
def test_p_value_is_the_n_minus_1_chi_squared_test(counts: tuple[int, int, int, int]) -> None:
    """The score test of equal proportions with Miettinen and Nurminen's correction is
    Pearson's chi-squared scaled by (N-1)/N, the test Campbell (2007) recommends for small
    samples; computed here from scipy's Pearson statistic."""
    x_a, n_a, x_b, n_b = counts
    total = n_a + n_b
    pearson = stats.chi2_contingency(
        [[x_a, n_a - x_a], [x_b, n_b - x_b]], correction=False
    ).statistic

    expected = stats.chi2.sf(pearson * (total - 1) / total, df=1)
    assert compare_proportions(*counts).p_value == pytest.approx(expected)


def test_zero_yes_in_group_b_leaves_the_ratio_undefined_but_not_the_difference() -> None:
    result = compare_proportions(5, 56, 0, 29)

    assert result.rate_b == 0
    assert result.ratio is None
    assert result.ratio_ci is None
    assert result.relative is None
    assert result.relative_ci is None
    assert result.difference == pytest.approx(5 / 56)
    assert result.p_value is not None
    assert 0 < result.p_value < 1


def test_zero_yes_in_group_a_gives_a_ratio_of_zero_without_an_interval() -> None:
    result = compare_proportions(0, 30, 6, 30)

    assert result.ratio == 0
    assert result.relative == -1
    assert result.ratio_ci is None
    low, high = result.difference_ci
    assert low < -0.2 < high < 0


@pytest.mark.parametrize("x", [0, 10])
def test_identical_unanimous_groups_are_not_different(x: int) -> None:
    result = compare_proportions(x, 10, x, 10)

    assert result.difference == 0
    assert result.p_value == 1.0
    low, high = result.difference_ci
    assert low == pytest.approx(-high)
    assert low < 0 < high
    # A Katz interval here would have zero width (all 100%) or not exist (all 0%).
    assert result.ratio_ci is None


@pytest.mark.parametrize("counts", [(0, 0, 3, 4), (3, 4, 0, 0), (0, 0, 0, 0)])
def test_an_empty_group_gives_no_comparison(counts: tuple[int, int, int, int]) -> None:
    result = compare_proportions(*counts)

    assert result.difference is None
    assert result.difference_ci is None
    assert result.ratio is None
    assert result.ratio_ci is None
    assert result.p_value is None
    if counts[1]:
        assert result.rate_a == counts[0] / counts[1]
    else:
        assert result.rate_a is None


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n_a, n_b = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    return draw(st.integers(0, n_a)), n_a, draw(st.integers(0, n_b)), n_b


@settings(max_examples=300, deadline=None)
@given(counts())
def test_any_valid_counts_give_sound_results_or_none(
    counts: tuple[int, int, int, int],
) -> None:
    """No nan and no interval that excludes its own estimate, whatever a pilot produces."""
    result = compare_proportions(*counts)

    if result.difference is not None:
        low, high = result.difference_ci
        assert low <= result.difference <= high
        # At 0% against 100% the bound can land a rounding error past -1 or 1.
        assert low == pytest.approx(max(low, -1), abs=1e-12)
        assert high == pytest.approx(min(high, 1), abs=1e-12)
        assert 0 <= result.p_value <= 1
    if result.ratio_ci is not None:
        low, high = result.ratio_ci
        assert 0 < low <= result.ratio <= high
        assert math.isfinite(high)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), max_size=12), st.lists(st.integers(1, 5), max_size=12))
def test_any_ratings_give_sound_results_or_none(a: list[int], b: list[int]) -> None:
    result = compare_means(a, b)

    for value in (result.p_value, result.mann_whitney_p, result.relative, result.sd_a):
        assert value is None or math.isfinite(value)
    if result.difference_ci is not None:
        low, high = result.difference_ci
        assert low <= result.difference <= high
        assert 0 <= result.p_value <= 1


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ((11, 10, 3, 10), "Group A: 11 yes answers out of 10"),
        ((1, 10, 5, 4), "Group B: 5 yes answers out of 4"),
        ((-1, 10, 3, 10), "x_a must not be negative"),
        ((1, -10, 3, 10), "n_a must not be negative"),
        ((1.5, 10, 3, 10), "x_a must be a whole number"),
        ((True, 10, 3, 10), "x_a must be a count"),
    ],
)
def test_invalid_counts_are_refused(counts: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare_proportions(*counts)


@pytest.mark.parametrize("confidence", [0, 1, 95])
def test_invalid_confidence_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        compare_proportions(1, 10, 2, 10, confidence=confidence)
    with pytest.raises(ValueError, match="confidence"):
        compare_means([1, 2], [2, 3], confidence=confidence)


def test_numpy_counts_are_accepted() -> None:
    assert compare_proportions(np.int64(9), 10, np.int32(3), 10) == compare_proportions(
        9, 10, 3, 10
    )


# Student's sleep data (Cushny & Peebles; Student 1908, Biometrika 6:1-25), extra hours of
# sleep with each drug, as in R's `sleep` dataset.
SLEEP_DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_interval_reproduces_r_documentation_example() -> None:
    """R's documented Welch example, `t.test(extra ~ group, data = sleep)`, prints
    t = -1.8608, df = 17.776, p-value = 0.07939 and the 95 percent confidence interval
    -3.3654832 to 0.2054832, with means 0.75 and 2.33."""
    result = compare_means(SLEEP_DRUG_1, SLEEP_DRUG_2)

    assert result.mean_a == pytest.approx(0.75)
    assert result.mean_b == pytest.approx(2.33)
    assert result.difference == pytest.approx(-1.58)
    assert result.difference_ci == pytest.approx((-3.3654832, 0.2054832), abs=5e-8)
    assert result.p_value == pytest.approx(0.07939, abs=5e-6)
    assert result.relative == pytest.approx(-1.58 / 2.33)


def test_welch_interval_with_one_constant_group_follows_welch_satterthwaite() -> None:
    """All of Group A gave the same rating, so only Group B's variance is left; worked by hand
    from the Welch-Satterthwaite formula, where the degrees of freedom fall to n_b - 1."""
    group_a = [4.0] * 12
    group_b = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0]
    variance_b = np.var(group_b, ddof=1)
    standard_error = math.sqrt(variance_b / len(group_b))
    degrees = (variance_b / len(group_b)) ** 2 / (
        (variance_b / len(group_b)) ** 2 / (len(group_b) - 1)
    )
    assert degrees == pytest.approx(5)
    margin = stats.t.ppf(0.975, degrees) * standard_error
    difference = 4.0 - np.mean(group_b)

    result = compare_means(group_a, group_b)

    assert result.sd_a == 0
    assert result.difference_ci == pytest.approx((difference - margin, difference + margin))


def test_no_variation_in_either_group_gives_no_interval() -> None:
    result = compare_means([5, 5, 5], [4, 4])

    assert result.difference == 1
    assert result.difference_ci is None
    assert result.p_value is None
    assert result.relative == pytest.approx(0.25)


@pytest.mark.parametrize(("a", "b"), [([4.0], [1.0, 2.0, 3.0]), ([1.0, 2.0, 3.0], [4.0])])
def test_a_single_respondent_gives_a_difference_but_no_interval(
    a: list[float], b: list[float]
) -> None:
    result = compare_means(a, b)

    assert result.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert result.difference_ci is None
    assert result.p_value is None
    assert None in (result.sd_a, result.sd_b)


def test_an_empty_group_gives_no_comparison_of_means() -> None:
    result = compare_means([], [3, 4, 5])

    assert result.mean_a is None
    assert result.mean_b == 4
    assert result.difference is None
    assert result.relative is None
    assert result.mann_whitney_p is None


def test_relative_is_undefined_against_a_zero_mean() -> None:
    assert compare_means([1.0, 2.0], [0.0, 0.0]).relative is None


def test_mann_whitney_orders_ratings_and_can_be_skipped() -> None:
    higher = [4, 5, 5, 4, 5, 3, 5, 4, 5, 5]
    lower = [2, 3, 1, 2, 3, 2, 4, 1, 2, 3]

    assert compare_means(higher, lower).mann_whitney_p < 0.01
    assert compare_means(higher, higher).mann_whitney_p == pytest.approx(1.0)
    assert compare_means(higher, lower, rank_test=False).mann_whitney_p is None


def test_holm_reproduces_the_textbook_decisions() -> None:
    """Holm S (1979), Scand J Statist 6:65-70, as worked in Wikipedia's "Holm-Bonferroni
    method": p-values 0.01, 0.04, 0.03 and 0.005 at alpha 0.05; hypotheses one and four are
    rejected, two and three are not."""
    adjusted = holm([0.01, 0.04, 0.03, 0.005])

    assert [p <= 0.05 for p in adjusted] == [True, False, False, True]


def test_holm_reproduces_the_pingouin_documented_adjustment() -> None:
    """pingouin.holm's documented example: p-values .50, .003, .32, .054, .0003 adjust to
    0.64, 0.012, 0.64, 0.162 and 0.0015."""
    adjusted = holm([0.50, 0.003, 0.32, 0.054, 0.0003])

    assert adjusted == pytest.approx([0.64, 0.012, 0.64, 0.162, 0.0015])


def test_holm_skips_outcomes_without_a_p_value() -> None:
    with_gaps = holm([0.01, None, 0.04, None, 0.03])

    assert with_gaps[1] is None
    assert with_gaps[3] is None
    assert [with_gaps[0], with_gaps[2], with_gaps[4]] == holm([0.01, 0.04, 0.03])
    assert holm([None, None]) == [None, None]
    assert holm([]) == []


@pytest.mark.parametrize(
    ("rate_b", "n_a", "n_b"),
    [(0.5, 360, 40), (0.4, 1000, 1000), (0.7, 30, 30), (0.1, 900, 100), (0.05, 5000, 5000)],
)
def test_sample_size_inverts_the_minimum_detectable_difference(
    rate_b: float, n_a: int, n_b: int
) -> None:
    difference = minimum_detectable_difference(rate_b, n_a, n_b)

    needed_a, needed_b = sample_size_for(rate_b, difference, share_a=n_a / (n_a + n_b))

    assert abs(needed_a - n_a) <= 1
    assert abs(needed_b - n_b) <= 1


@pytest.mark.parametrize(
    ("rate_b", "difference", "share_a"),
    [(0.5, 0.083, 0.9), (0.7, 0.041, 0.5), (0.2, 0.1, 0.75), (0.05, 0.01, 0.5)],
)
def test_minimum_detectable_difference_inverts_the_sample_size(
    rate_b: float, difference: float, share_a: float
) -> None:
    """Rounding up gives at least the power asked for, and one fewer in each group less."""
    n_a, n_b = sample_size_for(rate_b, difference, share_a)

    assert n_a / (n_a + n_b) == pytest.approx(share_a, abs=0.01)
    assert minimum_detectable_difference(rate_b, n_a, n_b) <= difference
    assert minimum_detectable_difference(rate_b, n_a - 1, n_b - 1) > difference


def test_sample_size_for_a_decrease_matches_the_mirror_increase() -> None:
    """Cohen's h is antisymmetric, so detecting 40% falling to 22.8% takes as many people as
    detecting 22.8% rising to 40%."""
    assert sample_size_for(0.4, -0.172, 0.9) == sample_size_for(0.228, 0.172, 0.9)


def test_more_respondents_detect_smaller_differences() -> None:
    differences = [minimum_detectable_difference(0.5, n, n // 9) for n in (90, 360, 3600)]
    assert differences == sorted(differences, reverse=True)
    assert differences[-1] < 0.1 < differences[0]


def test_minimum_detectable_difference_edges() -> None:
    assert minimum_detectable_difference(0.5, 0, 40) is None
    assert minimum_detectable_difference(0.5, 360, 0) is None
    # Already at 100%, or too few people to detect even a rise to 100%.
    assert minimum_detectable_difference(1.0, 360, 40) is None
    assert minimum_detectable_difference(0.9, 3, 1) is None
    with pytest.raises(ValueError, match="rate_b"):
        minimum_detectable_difference(1.5, 360, 40)


@pytest.mark.parametrize(
    ("rate_b", "difference", "share_a", "message"),
    [
        (0.5, 0.0, 0.9, "difference of zero"),
        (0.5, 0.6, 0.9, "rate_b \\+ difference"),
        (0.5, 0.1, 1.0, "share_a"),
        (0.5, 0.1, 0.0, "share_a"),
    ],
)
def test_sample_size_refuses_impossible_designs(
    rate_b: float, difference: float, share_a: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sample_size_for(rate_b, difference, share_a)


def _rollout(
    rng: np.random.Generator, rates: dict[tuple[bool, bool], float], per_cell: int
) -> list[tuple[float, bool, bool]]:
    rows = []
    for (late, after), rate in rates.items():
        rows += [(float(y), late, after) for y in rng.random(per_cell) < rate]
    return rows


def test_difference_in_differences_recovers_a_known_effect() -> None:
    """The pilot rises 5 points on its own (a trend every division shares); the late divisions
    rise the same 5 points plus 10 from going live, so the effect is 10 points."""
    rates = {
        (False, False): 0.30,
        (False, True): 0.35,
        (True, False): 0.40,
        (True, True): 0.55,
    }
    rows = _rollout(np.random.default_rng(20261204), rates, per_cell=3000)

    result = difference_in_differences(rows)

    cells = result.cells
    observed = (cells["late_after"][1] - cells["late_before"][1]) - (
        cells["early_after"][1] - cells["early_before"][1]
    )
    assert result.estimate == pytest.approx(observed)
    assert result.ci[0] < 0.10 < result.ci[1]
    assert result.p_value < 0.001
    assert result.n == 12000
    assert {name: n for name, (n, _) in cells.items()} == {
        "early_before": 3000,
        "early_after": 3000,
        "late_before": 3000,
        "late_after": 3000,
    }


def test_difference_in_differences_uses_hc1_standard_errors() -> None:
    """With the four cells saturated, the HC0 variance of the interaction is the sum over cells
    of the within-cell variance over the cell size; HC1 scales it by n / (n - 4)."""
    rng = np.random.default_rng(7)
    rates = {(False, False): 0.2, (False, True): 0.3, (True, False): 0.5, (True, True): 0.6}
    rows = _rollout(rng, rates, per_cell=50)[:-20]  # unequal cells, so HC1 differs from OLS
    data = np.array(rows)
    hc0 = sum(
        np.var(data[(data[:, 1] == late) & (data[:, 2] == after), 0])
        / np.sum((data[:, 1] == late) & (data[:, 2] == after))
        for late in (0, 1)
        for after in (0, 1)
    )
    standard_error = math.sqrt(hc0 * len(rows) / (len(rows) - 4))

    result = difference_in_differences(rows, confidence=0.9)

    margin = stats.norm.ppf(0.95) * standard_error
    assert result.ci == pytest.approx((result.estimate - margin, result.estimate + margin))


def test_difference_in_differences_finds_nothing_when_nothing_changed() -> None:
    rates = dict.fromkeys([(False, False), (False, True), (True, False), (True, True)], 0.4)
    result = difference_in_differences(_rollout(np.random.default_rng(3), rates, 2000))

    assert result.ci[0] < 0 < result.ci[1]
    assert result.p_value > 0.05


def test_difference_in_differences_needs_every_cell() -> None:
    rows = [(1.0, False, False), (0.0, False, True), (1.0, True, False), (0.0, False, False)]
    assert difference_in_differences(rows) is None
    assert difference_in_differences([]) is None


def test_difference_in_differences_needs_variation_within_cells() -> None:
    one_per_cell = [(1.0, False, False), (0.0, False, True), (1.0, True, False), (1.0, True, True)]
    assert difference_in_differences(one_per_cell) is None
    constant_cells = one_per_cell * 5
    assert difference_in_differences(constant_cells) is None
