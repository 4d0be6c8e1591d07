"""The dashboard's chart, drawn on the server with matplotlib as SVG text to put straight into
the page, as the survey report's charts are (surveys/charts.py).

matplotlib takes seconds to import, so it is imported only when a chart is drawn, never when
Django starts (tests/test_startup.py). Figures are made without pyplot, so requests on several
threads can draw at once. Colours are Okabe-Ito, and texts and emails also differ by line
style and marker and are named in the legend, never told apart by colour alone."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from typing import Any

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _

from victim_notify.staff.dashboard_figures import ChannelCount

TEXTS = "#0072B2"  # blue
EMAILS = "#D55E00"  # vermillion
MARKERS_UP_TO_DAYS = 62  # past two months markers crowd into a smear


@functools.cache
def _matplotlib() -> Any:
    import matplotlib

    # Text stays text in the SVG (readable, searchable, scaled with the page); the same
    # settings as the survey charts, so either module may load first.
    matplotlib.rcParams.update(
        {
            "font.size": 10,
            "svg.fonttype": "none",
            "svg.hashsalt": "victim-notify",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return matplotlib


def _svg(figure: Any, title: str, description: str) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    figure.savefig(
        buffer, format="svg", bbox_inches="tight", metadata={"Title": title, "Date": None}
    )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prologue: it goes inside HTML
    # The chart is one image to assistive technology; its numbers are in the table beside it.
    return text.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(title)}. {escape(description)}" ', 1
    )


def messages_per_day_chart(days: Sequence[ChannelCount]) -> str:
    """Texts and emails decided each day, as two lines."""
    _matplotlib()
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    title = _("Report notices per day")
    description = _("Texts and emails from %(start)s to %(end)s; the table below has the numbers.")
    description = description % {
        "start": date_format(days[0].when, "DATE_FORMAT"),
        "end": date_format(days[-1].when, "DATE_FORMAT"),
    }
    marker = len(days) <= MARKERS_UP_TO_DAYS
    x = [date2num(day.when) for day in days]
    figure = Figure(figsize=(9.5, 3))
    axes = figure.subplots()
    axes.plot(
        x,
        [day.sms for day in days],
        color=TEXTS,
        marker="o" if marker else None,
        markersize=3.5,
        linewidth=1.6,
        label=_("Texts"),
    )
    axes.plot(
        x,
        [day.email for day in days],
        color=EMAILS,
        marker="s" if marker else None,
        markersize=3.5,
        linewidth=1.6,
        linestyle="--",
        label=_("Emails"),
    )
    axes.set_ylim(bottom=0, top=max([1, *(max(d.sms, d.email) for d in days)]) * 1.1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(_("Messages"))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    # Dates in the reader's language ("Dec 4" / "Dic 4"), not matplotlib's English months.
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _day_label(value)))
    if len(x) == 1:
        axes.set_xlim(x[0] - 1, x[0] + 1)
    axes.grid(axis="y", color="#d0d4da", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.legend(loc="upper left", frameon=False, ncols=2, bbox_to_anchor=(0, 1.12))
    return _svg(figure, str(title), description)


def _day_label(value: float) -> str:
    from matplotlib.dates import num2date

    day: dt.date = num2date(value).date()
    return date_format(day, "M j")
