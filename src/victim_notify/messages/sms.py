"""How a text message is encoded and how many segments it costs.

GSM 03.38 (7-bit) when every character is in the GSM basic or extension table, else UCS-2.
Extension characters take two septets. UCS-2 counts UTF-16 code units, so an emoji costs two.
A single GSM-7 message holds 160 septets, a part of a long one 153; UCS-2: 70 and 67. A character
is never split between parts (an escape and its character, or a surrogate pair, travel together),
so one that does not fit whole starts the next part: sometimes one part more than ⌈n/153⌉.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")

# Typography that word processors and RMS text boxes introduce, which would otherwise force the
# whole message into UCS-2 (70 characters a segment instead of 160).
_LOOKALIKES = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2002": " ",  # en space
        "\u2003": " ",  # em space
        "\u200a": " ",  # hair space
        "\u200b": "",  # zero-width space
        "\u2060": "",  # word joiner
        "\ufeff": "",  # byte order mark, pasted from files
        "\u00ad": "",  # soft hyphen
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2010": "-",
        "\u2012": "-",  # figure dash
        "\u2015": "-",  # horizontal bar
        "\u2011": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2022": "-",  # bullet
        "\t": " ",
    }
)


_ANY_LOOKALIKE = frozenset(chr(code) for code in _LOOKALIKES)


@dataclass(frozen=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def replace_lookalikes(text: str) -> str:
    """Swap typographic characters for their plain equivalents. Letters are never touched, so
    a name such as Zoë or Nguyễn reaches the phone exactly as written."""
    if _ANY_LOOKALIKE.isdisjoint(text):  # the usual case, and much cheaper than translate()
        return text
    return text.translate(_LOOKALIKES)


_GSM_ALL = GSM_BASIC | GSM_EXTENSION


def is_gsm7(text: str) -> bool:
    return _GSM_ALL.issuperset(text)


def _segments(widths: Iterable[int], single: int, part: int) -> tuple[int, int]:
    """Units and segments for characters of the given widths; a character never straddles two
    parts."""
    widths = list(widths)
    units = sum(widths)
    if units <= single:
        return units, 1
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return units, parts


def cost(text: str) -> SmsCost:
    # Counting character by character is only needed when some take two units; most texts
    # have none, and the formula is then exact.
    if is_gsm7(text):
        if GSM_EXTENSION.isdisjoint(text):
            units, segments = _segments_uniform(len(text), 160, 153)
        else:
            units, segments = _segments((2 if ch in GSM_EXTENSION else 1 for ch in text), 160, 153)
        return SmsCost("GSM-7", units, segments)
    if len(text.encode("utf-16-le")) == 2 * len(text):
        units, segments = _segments_uniform(len(text), 70, 67)
    else:
        units, segments = _segments((2 if ord(ch) > 0xFFFF else 1 for ch in text), 70, 67)
    return SmsCost("UCS-2", units, segments)


def _segments_uniform(units: int, single: int, part: int) -> tuple[int, int]:
    return units, 1 if units <= single else -(-units // part)
