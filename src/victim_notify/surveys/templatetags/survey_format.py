"""How the survey report writes numbers: shares as percentages, differences in percentage
points with their sign, intervals as 'low to high', p-values as people expect them."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _number(value: Any) -> float | None:
    """A missing figure reaches a filter as None or as the template's empty string."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@register.filter
def pct(value: float | None, digits: int = 1) -> str:
    value = _number(value)
    return "–" if value is None else f"{value * 100:.{digits}f}%"


@register.filter
def signed_pct(value: float | None) -> str:
    value = _number(value)
    return "–" if value is None else f"{value * 100:+.1f}%"


@register.filter
def figure(value: float | None, kind: str) -> str:
    value = _number(value)
    """A group's value: a share for a proportion, a mean for a rating."""
    if value is None:
        return "–"
    return f"{value * 100:.1f}%" if kind == "proportion" else f"{value:.2f}"


@register.filter
def difference(value: float | None, kind: str) -> str:
    value = _number(value)
    if value is None:
        return "–"
    return f"{value * 100:+.1f} pts" if kind == "proportion" else f"{value:+.2f}"


@register.filter
def interval(ci: list[float] | None, kind: str) -> str:
    if not ci or any(_number(v) is None for v in ci):
        return "–"
    if kind == "proportion":
        return f"{ci[0] * 100:+.1f} to {ci[1] * 100:+.1f} pts"
    if kind == "relative":
        return f"{ci[0] * 100:+.1f}% to {ci[1] * 100:+.1f}%"
    return f"{ci[0]:+.2f} to {ci[1]:+.2f}"


@register.filter
def pvalue(value: float | None) -> str:
    value = _number(value)
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def significant(row: dict[str, Any]) -> bool:
    p = row.get("p_holm")
    return p is not None and p < 0.05
