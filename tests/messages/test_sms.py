"""Text message encoding and segment counts, at every boundary, and the typography swap that
keeps texts in GSM-7 without ever touching a letter of a name."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from victim_notify.messages.sms import (
    GSM_BASIC,
    GSM_EXTENSION,
    cost,
    is_gsm7,
    replace_lookalikes,
)

# 3GPP TS 23.038 (GSM 03.38) default alphabet, by code point 0x00-0x7F, row by row; 0x1B is the
# escape to the extension table and is not a character.
ESC = None
GSM_0338_BASIC = [
    "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
    "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", ESC, "Æ", "æ", "ß", "É",
    " ", "!", '"', "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
    *"0123456789:;<=>?",
    "¡", *"ABCDEFGHIJKLMNO",
    *"PQRSTUVWXYZ", "Ä", "Ö", "Ñ", "Ü", "§",
    "¿", *"abcdefghijklmno",
    *"pqrstuvwxyz", "ä", "ö", "ñ", "ü", "à",
]  # fmt: skip
# The extension table: form feed, ^ { } \ [ ~ ] | and the euro sign.
GSM_0338_EXTENSION = {"\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"}

EMOJI = "\U0001f600"  # outside the Basic Multilingual Plane: two UTF-16 code units


def test_basic_table_is_gsm_03_38() -> None:
    assert len(GSM_0338_BASIC) == 128
    assert set(GSM_BASIC) == {c for c in GSM_0338_BASIC if c is not None}
    assert len(GSM_BASIC) == 127


def test_extension_table_is_gsm_03_38() -> None:
    assert set(GSM_EXTENSION) == GSM_0338_EXTENSION
    assert not GSM_BASIC & GSM_EXTENSION


@pytest.mark.parametrize(
    ("char", "gsm"),
    [
        pytest.param("Ç", True, id="capital-c-cedilla-is-0x09"),
        pytest.param("ç", False, id="small-c-cedilla-is-not"),
        pytest.param("`", False, id="backtick-is-not"),
        pytest.param("Δ", True, id="greek-delta"),
        pytest.param("\u2206", False, id="increment-sign-looks-like-delta"),
        pytest.param("Ω", True, id="greek-omega"),
        pytest.param("\u2126", False, id="ohm-sign-looks-like-omega"),
        pytest.param("ë", False, id="e-diaeresis"),
        pytest.param("ñ", True, id="n-tilde"),
        pytest.param("á", False, id="a-acute"),
        pytest.param("\t", False, id="tab"),
        pytest.param("\u00a0", False, id="no-break-space"),
    ],
)
def test_gsm_membership(char: str, gsm: bool) -> None:
    assert is_gsm7(char) is gsm


# ---------------------------------------------------------------------------------------------
# Segment counts.

A, X = "a", "ë"  # one GSM-7 septet; one UCS-2 code unit (and not GSM)

COSTS = [
    # GSM-7: one segment holds 160 septets, each part of a longer message 153.
    pytest.param("", "GSM-7", 0, 1, id="gsm-empty"),
    pytest.param(A, "GSM-7", 1, 1, id="gsm-1"),
    pytest.param(A * 160, "GSM-7", 160, 1, id="gsm-160"),
    pytest.param(A * 161, "GSM-7", 161, 2, id="gsm-161"),
    pytest.param(A * 306, "GSM-7", 306, 2, id="gsm-153x2"),
    pytest.param(A * 307, "GSM-7", 307, 3, id="gsm-153x2+1"),
    pytest.param(A * 459, "GSM-7", 459, 3, id="gsm-153x3"),
    pytest.param(A * 460, "GSM-7", 460, 4, id="gsm-153x3+1"),
    pytest.param(A * 918, "GSM-7", 918, 6, id="gsm-153x6"),
    pytest.param(A * 919, "GSM-7", 919, 7, id="gsm-153x6+1"),
    pytest.param("\r\n" * 80, "GSM-7", 160, 1, id="gsm-line-breaks-count-one-each"),
    # Extension characters take two septets.
    pytest.param("€", "GSM-7", 2, 1, id="ext-euro"),
    pytest.param("\f", "GSM-7", 2, 1, id="ext-form-feed"),
    pytest.param(A * 158 + "€", "GSM-7", 160, 1, id="ext-at-160"),
    pytest.param(A * 159 + "€", "GSM-7", 161, 2, id="ext-pushes-to-161"),
    pytest.param("{" * 80, "GSM-7", 160, 1, id="ext-80-braces"),
    pytest.param("{" * 81, "GSM-7", 162, 2, id="ext-81-braces"),
    pytest.param("^{}\\[~]|€\f", "GSM-7", 20, 1, id="ext-all-ten"),
    pytest.param(A * 151 + "€" + A * 153, "GSM-7", 306, 2, id="ext-ends-part-one-exactly"),
    # An escape sequence is never split between parts: the euro moves whole to part two.
    pytest.param(A * 152 + "€" + A * 152, "GSM-7", 306, 3, id="ext-straddles-part-boundary"),
    # A part holds 76 escape sequences (152 septets), never 76 and a half.
    pytest.param("[" * 152, "GSM-7", 304, 2, id="ext-only-152"),
    pytest.param("[" * 153, "GSM-7", 306, 3, id="ext-only-153"),
    # UCS-2: one segment holds 70 UTF-16 code units, each part of a longer message 67.
    pytest.param(X, "UCS-2", 1, 1, id="ucs-1"),
    pytest.param(X * 70, "UCS-2", 70, 1, id="ucs-70"),
    pytest.param(X * 71, "UCS-2", 71, 2, id="ucs-71"),
    pytest.param(X * 134, "UCS-2", 134, 2, id="ucs-67x2"),
    pytest.param(X * 135, "UCS-2", 135, 3, id="ucs-67x2+1"),
    pytest.param(X * 201, "UCS-2", 201, 3, id="ucs-67x3"),
    pytest.param(X * 202, "UCS-2", 202, 4, id="ucs-67x3+1"),
    pytest.param(A * 69 + X, "UCS-2", 70, 1, id="ucs-one-letter-turns-whole-text"),
    pytest.param(A * 70 + X, "UCS-2", 71, 2, id="ucs-one-letter-71"),
    # In UCS-2 the GSM extension characters are single code units.
    pytest.param(X + "€" * 69, "UCS-2", 70, 1, id="ucs-euro-counts-one"),
    # Emoji outside the BMP: two code units.
    pytest.param(EMOJI, "UCS-2", 2, 1, id="emoji"),
    pytest.param(EMOJI * 35, "UCS-2", 70, 1, id="emoji-35"),
    pytest.param(EMOJI * 36, "UCS-2", 72, 2, id="emoji-36"),
    pytest.param(A * 68 + EMOJI, "UCS-2", 70, 1, id="emoji-at-70"),
    pytest.param(A * 69 + EMOJI, "UCS-2", 71, 2, id="emoji-pushes-to-71"),
    pytest.param(X * 65 + EMOJI + X * 67, "UCS-2", 134, 2, id="emoji-ends-part-one-exactly"),
    # A surrogate pair is never split between parts: the emoji moves whole to part two.
    pytest.param(X * 66 + EMOJI + X * 66, "UCS-2", 134, 3, id="emoji-straddles-part-boundary"),
    # Names.
    pytest.param("Zoë", "UCS-2", 3, 1, id="name-zoe-forces-ucs2"),
    pytest.param("Nguyễn", "UCS-2", 6, 1, id="name-nguyen"),
    pytest.param("O'Brien", "GSM-7", 7, 1, id="name-obrien"),
    pytest.param("Muñoz Müller Ødegård", "GSM-7", 20, 1, id="names-in-gsm"),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), COSTS)
def test_cost(text: str, encoding: str, units: int, segments: int) -> None:
    measured = cost(text)
    assert (measured.encoding, measured.units, measured.segments) == (encoding, units, segments)


# ---------------------------------------------------------------------------------------------
# Typography that would force UCS-2 is swapped; letters never are.

LOOKALIKES = [
    pytest.param("Ana\u00a0Ruiz", "Ana Ruiz", id="no-break-space"),
    pytest.param("10\u202fam", "10 am", id="narrow-no-break-space"),
    pytest.param("1\u2009000", "1 000", id="thin-space"),
    pytest.param("call\u2002us\u2003now", "call us now", id="en-and-em-space"),
    pytest.param("re\u00adport", "report", id="soft-hyphen"),
    pytest.param("\ufeffHello", "Hello", id="byte-order-mark"),
    pytest.param("a\u200bb\u2060c", "abc", id="zero-width"),
    pytest.param("\u2018quoted\u2019", "'quoted'", id="single-smart-quotes"),
    pytest.param("O\u2019Brien", "O'Brien", id="smart-apostrophe-in-name"),
    pytest.param("\u201cquoted\u201d \u201elow\u201c", '"quoted" "low"', id="double-smart-quotes"),
    pytest.param("9\u201310", "9-10", id="en-dash"),
    pytest.param("wait\u2014then", "wait-then", id="em-dash"),
    pytest.param("\u2012\u2015\u2010\u2011\u2212", "-----", id="other-dashes-and-minus"),
    pytest.param("more\u2026", "more...", id="ellipsis"),
    pytest.param("\u2022 item", "- item", id="bullet"),
    pytest.param("a\tb", "a b", id="tab"),
]


@pytest.mark.parametrize(("text", "expected"), LOOKALIKES)
def test_lookalikes_are_replaced(text: str, expected: str) -> None:
    assert replace_lookalikes(text) == expected
    assert cost(replace_lookalikes(text)).encoding == "GSM-7"


@pytest.mark.parametrize(
    "name",
    [
        "Zoë", "Nguyễn", "O'Brien", "Đặng Thị Hương", "Søren Ødegård", "José Muñoz", "François",
        "Łukasz Wałęsa", "Ngô\u0300", "Mc\u02bcKenzie", "Иван", "محمد", "李小龍", "Zoë\u0308",
    ],
)  # fmt: skip
def test_names_are_never_changed(name: str) -> None:
    assert replace_lookalikes(name) == name
    assert (
        replace_lookalikes(f"Hello {name}, report T-000123.") == f"Hello {name}, report T-000123."
    )


def test_a_name_that_needs_ucs2_keeps_the_whole_text_in_ucs2() -> None:
    text = replace_lookalikes("Hi Zo\u00eb \u2014 this is Tucson Police about report T-000123.")
    assert "Zoë" in text
    assert cost(text).encoding == "UCS-2"


# ---------------------------------------------------------------------------------------------
# Properties.

gsm_text = st.text(alphabet=st.sampled_from(sorted(GSM_BASIC | GSM_EXTENSION)), max_size=700)
any_text = st.text(max_size=400)


@given(text=st.one_of(gsm_text, any_text), char=st.characters(exclude_categories=["Cs"]))
def test_appending_a_character_never_lowers_the_segment_count(text: str, char: str) -> None:
    assert cost(text + char).segments >= cost(text).segments


@given(text=gsm_text)
def test_gsm_text_is_never_reported_as_ucs2(text: str) -> None:
    measured = cost(text)
    assert measured.encoding == "GSM-7"
    assert measured.units == len(text) + sum(1 for ch in text if ch in GSM_EXTENSION)


@given(text=any_text)
def test_ucs2_units_are_utf16_code_units(text: str) -> None:
    measured = cost(text)
    if measured.encoding == "UCS-2":
        assert measured.units == len(text.encode("utf-16-le")) // 2
        assert not is_gsm7(text)


@given(text=st.one_of(gsm_text, any_text))
def test_segments_are_within_the_plain_formula_and_one_per_straddling_character(text: str) -> None:
    measured = cost(text)
    single, part = (160, 153) if measured.encoding == "GSM-7" else (70, 67)
    if measured.units <= single:
        assert measured.segments == 1
    else:
        low = -(-measured.units // part)
        # Each part can lose at most one unit to a character that does not fit whole.
        assert low <= measured.segments <= -(-measured.units // (part - 1))


typographic = st.sampled_from(
    list("\u00a0\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u202f\t")
)


@given(text=st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), typographic)).map("".join))
def test_lookalike_replacement_is_idempotent_and_never_touches_a_letter(text: str) -> None:
    once = replace_lookalikes(text)
    assert replace_lookalikes(once) == once

    def letters(s: str) -> list[str]:
        return [ch for ch in s if unicodedata.category(ch).startswith("L")]

    assert letters(once) == letters(text)


@given(text=gsm_text)
def test_gsm_text_is_left_as_it_is(text: str) -> None:
    assert replace_lookalikes(text) == text
