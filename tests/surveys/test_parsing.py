"""Reading survey answers texted back: a table of answers as people send them, each decision
about an ambiguous word as a case, and properties over any text and over wrapped answers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from victim_notify.surveys.parsing import (
    CHANNEL_OPTIONS,
    NO_WORDS,
    NUMBER_WORDS,
    UNSURE_WORDS,
    YES_WORDS,
    Option,
    parse_answer,
    parse_choice,
    parse_scale,
    parse_yes_no,
)

# The four questions of the default questionnaire, as the caller asks them.
QUESTIONS: dict[str, dict[str, Any]] = {
    "channel": {"kind": "choice", "options": CHANNEL_OPTIONS},
    "rating": {"kind": "scale"},
    "trust": {"kind": "scale", "also_yes_no": True},
    "likely": {"kind": "yes_no"},
}

ANSWERS = [
    # How would you like to get updates? 1 text, 2 email, 3 mailed letter, 4 phone call.
    ("channel", "1", "text"),
    ("channel", "1.", "text"),
    ("channel", "#1", "text"),
    ("channel", "option 2", "email"),
    ("channel", "la 2", "email"),
    ("channel", "Opción 3", "letter"),
    ("channel", "numero 4 por favor", "phone"),
    ("channel", "2️⃣", "email"),
    ("channel", " 4 ", "phone"),
    ("channel", "2 - email", "email"),
    ("channel", "Text", "text"),
    ("channel", "TEXT!!!", "text"),
    ("channel", "Text please", "text"),
    ("channel", "text me pls", "text"),
    ("channel", "Textttt", "text"),
    ("channel", "texting is fine thanks", "text"),
    ("channel", "txt", "text"),
    ("channel", "SMS", "text"),
    ("channel", "text message 😊", "text"),
    ("channel", "Texto", "text"),
    ("channel", "texto por favor", "text"),
    ("channel", "Mensaje de texto", "text"),
    ("channel", "por mensaje", "text"),
    ("channel", "email pls", "email"),
    ("channel", "by email pls", "email"),
    ("channel", "E-mail", "email"),
    ("channel", "EMAIL ME", "email"),
    ("channel", "e mail is best", "email"),
    ("channel", "Email: ana.ruiz@gmail.com", "email"),
    ("channel", "ana.ruiz@gmail.com", "email"),
    ("channel", "correo electrónico", "email"),
    ("channel", "Correo", "email"),
    ("channel", "por correo", "email"),
    ("channel", "por mail", "email"),
    ("channel", "mail", "letter"),
    ("channel", "by mail", "letter"),
    ("channel", "a letter in the mail", "letter"),
    ("channel", "Snail mail please", "letter"),
    ("channel", "mailed letter", "letter"),
    ("channel", "carta", "letter"),
    ("channel", "Una carta", "letter"),
    ("channel", "carta por correo postal", "letter"),
    ("channel", "correo postal", "letter"),
    ("channel", "por correo postal", "letter"),
    ("channel", "llamada", "phone"),
    ("channel", "phone call", "phone"),
    ("channel", "Call me", "phone"),
    ("channel", "call me at (520) 555-0134", "phone"),
    ("channel", "teléfono", "phone"),
    ("channel", "TELEFONO", "phone"),
    ("channel", "Llámenme por favor", "phone"),
    ("channel", "the email one", "email"),
    ("channel", "2 email", "email"),
    ("channel", "text or email", None),
    ("channel", "texto o correo", None),
    ("channel", "text and email both fine", None),
    ("channel", "1 or 2", None),
    ("channel", "3 or 4", None),
    ("channel", "1 email", None),
    ("channel", "7", None),
    ("channel", "10", None),
    ("channel", "0", None),
    ("channel", "I don't know", None),
    ("channel", "idk", None),
    ("channel", "no sé", None),
    ("channel", "maybe text", None),
    ("channel", "quizás", None),
    ("channel", "no email", None),
    ("channel", "don't call me", None),
    ("channel", "text me on my phone", None),
    ("channel", "los dos", None),
    ("channel", "any is fine", None),
    ("channel", "tetx", None),
    ("channel", "yes", None),
    ("channel", "👍", None),
    # How would you rate the service? 1 (very poor) to 5 (excellent).
    ("rating", "5", "5"),
    ("rating", "5!!", "5"),
    ("rating", "4 stars", "4"),
    ("rating", "4stars", "4"),
    ("rating", "⭐⭐⭐⭐", "4"),
    ("rating", "⭐️⭐️⭐️⭐️⭐️", "5"),
    ("rating", "★★★☆☆", "3"),
    ("rating", "5 ⭐", "5"),
    ("rating", "5️⃣", "5"),
    ("rating", "4/5", "4"),
    ("rating", "4 / 5", "4"),
    ("rating", "4 out of 5", "4"),
    ("rating", "four out of five", "4"),
    ("rating", "3 de 5", "3"),
    ("rating", "I'd give them a 4", "4"),
    ("rating", "a 5", "5"),
    ("rating", "five", "5"),
    ("rating", "Cinco", "5"),
    ("rating", "tres", "3"),
    ("rating", "le doy un 4", "4"),
    ("rating", "una estrella", "1"),
    ("rating", "one star", "1"),
    ("rating", "5 stars!!! Officer Diaz was great", "5"),
    ("rating", "excellent", "5"),
    ("rating", "Excelente servicio", "5"),
    ("rating", "exelente", "5"),
    ("rating", "terrible", "1"),
    ("rating", "pésimo", "1"),
    ("rating", "muy malo", "1"),
    ("rating", "very poor", "1"),
    ("rating", "7", None),
    ("rating", "0", None),
    ("rating", "10", None),
    ("rating", "10/10", None),
    ("rating", "8/10", None),
    ("rating", "3 or 4", None),
    ("rating", "between 3 and 4", None),
    ("rating", "4.5", None),
    ("rating", "⭐⭐⭐⭐⭐⭐", None),
    ("rating", "good", None),
    ("rating", "bueno", None),
    ("rating", "not excellent", None),
    ("rating", "no fue excelente", None),
    ("rating", "not a 5", None),
    ("rating", "not bad, 5", "5"),
    ("rating", "maybe a 4", None),
    ("rating", "idk", None),
    ("rating", "yes", None),
    ("rating", "my report 2024-118 was fine", None),
    # Do you trust the police? 1 (not at all) to 5 (completely), or YES or NO.
    ("trust", "yes", "yes"),
    ("trust", "Sí", "yes"),
    ("trust", "NO", "no"),
    ("trust", "👍", "yes"),
    ("trust", "4", "4"),
    ("trust", "yes, 5", "5"),
    ("trust", "no 1", "1"),
    ("trust", "5 stars", "5"),
    ("trust", "not at all", "no"),
    ("trust", "para nada", "no"),
    ("trust", "completely", "yes"),
    ("trust", "totalmente", "yes"),
    ("trust", "not really", "no"),
    ("trust", "yes and no", None),
    ("trust", "sometimes", None),
    ("trust", "no sé", None),
    ("trust", "yes, 3 or 4", None),
    ("trust", "7", None),
    # Are you likely to call us for more information? YES or NO.
    ("likely", "yes", "yes"),
    ("likely", "Y", "yes"),
    ("likely", "y please", "yes"),
    ("likely", "Yeah", "yes"),
    ("likely", "yep", "yes"),
    ("likely", "Yup!", "yes"),
    ("likely", "YESSS", "yes"),
    ("likely", "sure", "yes"),
    ("likely", "of course", "yes"),
    ("likely", "Definitely", "yes"),
    ("likely", "ok", "yes"),
    ("likely", "Yes I will call", "yes"),
    ("likely", "I think so", "yes"),
    ("likely", "probably", "yes"),
    ("likely", "likely", "yes"),
    ("likely", "most likely", "yes"),
    ("likely", "sí", "yes"),
    ("likely", "si", "yes"),
    ("likely", "Si", "yes"),
    ("likely", "SIII!!", "yes"),
    ("likely", "sip", "yes"),
    ("likely", "claro", "yes"),
    ("likely", "claro que sí", "yes"),
    ("likely", "Por supuesto", "yes"),
    ("likely", "probablemente", "yes"),
    ("likely", "👍", "yes"),
    ("likely", "👍🏽", "yes"),
    ("likely", "✅", "yes"),
    ("likely", "✔️", "yes"),
    ("likely", "no", "no"),
    ("likely", "n", "no"),
    ("likely", "N.", "no"),
    ("likely", "nooo", "no"),
    ("likely", "NO!!!", "no"),
    ("likely", "nope", "no"),
    ("likely", "nah", "no"),
    ("likely", "not really", "no"),
    ("likely", "no thanks", "no"),
    ("likely", "No thank you", "no"),
    ("likely", "probably not", "no"),
    ("likely", "not likely", "no"),
    ("likely", "No, I won't need to", "no"),
    ("likely", "I don't think so", "no"),
    ("likely", "definitely not", "no"),
    ("likely", "of course not", "no"),
    ("likely", "no gracias", "no"),
    ("likely", "para nada", "no"),
    ("likely", "claro que no", "no"),
    ("likely", "creo que no", "no"),
    ("likely", "no es probable", "no"),
    ("likely", "nunca", "no"),
    ("likely", "👎", "no"),
    ("likely", "❌", "no"),
    ("likely", "no sé", None),
    ("likely", "No se", None),
    ("likely", "nose", None),
    ("likely", "no estoy segura", None),
    ("likely", "not sure", None),
    ("likely", "I don't know", None),
    ("likely", "idk", None),
    ("likely", "maybe", None),
    ("likely", "possibly", None),
    ("likely", "quizás", None),
    ("likely", "tal vez", None),
    ("likely", "🤷‍♀️", None),
    ("likely", "yes and no", None),
    ("likely", "sí y no", None),
    ("likely", "yes but not now", None),
    ("likely", "y no", "no"),
    ("likely", "n/a", None),
    ("likely", "5", None),
    ("likely", "🙂", None),
    ("likely", "", None),
]


@pytest.mark.parametrize(("question", "text", "expected"), ANSWERS)
def test_answer_as_texted(question: str, text: str, expected: str | None) -> None:
    assert parse_answer(text=text, **QUESTIONS[question]) == expected


def test_table_is_large_and_without_contradictions() -> None:
    assert len(ANSWERS) >= 80
    seen: dict[tuple[str, str], str | None] = {}
    for question, text, expected in ANSWERS:
        assert seen.setdefault((question, text), expected) == expected, (question, text)


# --- the lists themselves ------------------------------------------------------------------------

OPTION_WORDS = [(o.key, w) for o in CHANNEL_OPTIONS for w in o.words]
YES_NO_WORDS = [("yes", w) for w in YES_WORDS] + [("no", w) for w in NO_WORDS]


@pytest.mark.parametrize(("key", "word"), OPTION_WORDS)
def test_every_option_word_names_its_option(key: str, word: str) -> None:
    assert parse_choice(word, CHANNEL_OPTIONS) == key


@pytest.mark.parametrize(("answer", "word"), YES_NO_WORDS)
def test_every_yes_no_word_reads_as_itself(answer: str, word: str) -> None:
    assert parse_yes_no(word) == answer
    assert parse_answer("scale", word, also_yes_no=True) == answer


@pytest.mark.parametrize("word", UNSURE_WORDS)
def test_a_hedge_is_never_an_answer(word: str) -> None:
    assert parse_yes_no(word) is None
    assert parse_yes_no(f"yes {word}") is None
    assert parse_choice(f"text {word}", CHANNEL_OPTIONS) is None
    assert parse_scale(f"{word} 4") is None


@pytest.mark.parametrize(("word", "value"), NUMBER_WORDS.items())
def test_number_words_on_a_scale_but_not_for_a_choice(word: str, value: int) -> None:
    assert parse_scale(word, 0, 10) == value
    assert parse_choice(word, CHANNEL_OPTIONS) is None


# --- other scales and other options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("cero", 0),
        ("10", 10),
        ("🔟", 10),
        ("10/10", 10),
        ("ten out of ten", 10),
        ("7 de 10", 7),
        ("excellent", 10),
        ("terrible", 0),
        ("11", None),
        ("4/5", None),
        ("9" * 5000, None),
    ],
)
def test_a_scale_from_0_to_10(text: str, expected: int | None) -> None:
    assert parse_scale(text, low=0, high=10) == expected


PLACES = (
    Option("in_person", 1, ("in person", "en persona")),
    Option("online", 2, ("online", "en línea")),
    Option("no_preference", 3, ("no preference", "sin preferencia", "either")),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No preference", "no_preference"),
        ("sin preferencia", "no_preference"),
        ("en persona por favor", "in_person"),
        ("3", "no_preference"),
        ("4", None),
        ("not online", None),
        ("in person or online", None),
        ("online", "online"),
        ("text", None),
    ],
)
def test_other_options(text: str, expected: str | None) -> None:
    assert parse_choice(text, PLACES) == expected


def test_a_word_listed_under_two_options_names_neither() -> None:
    options = (Option("a", 1, ("alpha", "shared")), Option("b", 2, ("beta", "shared")))
    assert parse_choice("shared", options) is None
    assert parse_choice("alpha", options) == "a"
    assert parse_choice("text", ()) is None


def test_an_unknown_kind_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown question kind"):
        parse_answer("free_text", "yes")


# --- any input -----------------------------------------------------------------------------------

SCALE_ANSWERS = {str(n) for n in range(1, 6)}
CHANNEL_KEYS = {o.key for o in CHANNEL_OPTIONS}

# Text built from the vocabulary, so the fuzzing reaches the matching, not only the tokenizer.
PIECES = st.sampled_from(
    [w for _, w in OPTION_WORDS + YES_NO_WORDS]
    + list(UNSURE_WORDS)
    + list(NUMBER_WORDS)
    + ["1", "4", "5", "10", "/", "out of", "⭐", "★", "5️⃣", "not", "a", "or", "@", "555-0134"]
)
WORDY = st.lists(PIECES | st.text(max_size=3), max_size=8).map(" ".join)


def check_never_raises_and_is_canonical(text: str) -> None:
    assert parse_choice(text, CHANNEL_OPTIONS) in CHANNEL_KEYS | {None}
    scale = parse_scale(text)
    assert scale is None or 1 <= scale <= 5
    assert parse_yes_no(text) in {"yes", "no", None}
    assert parse_answer("scale", text, also_yes_no=True) in SCALE_ANSWERS | {"yes", "no", None}
    assert parse_answer("scale", text) in SCALE_ANSWERS | {None}


@given(st.text())
def test_any_text(text: str) -> None:
    check_never_raises_and_is_canonical(text)


@given(WORDY)
def test_any_text_made_of_answer_words(text: str) -> None:
    check_never_raises_and_is_canonical(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x07\x1b[31m",
        "\u200b\u200d\ufe0f",
        "🙂🙂🙂",
        "yes " * 10_000,
        "a" * 100_000,
        "1" * 10_000,
        "@" * 1000,
        "ℌ𝔢𝔩𝔩𝔬 ﷺ",
    ],
)
def test_odd_input(text: str) -> None:
    check_never_raises_and_is_canonical(text)


def test_control_characters_and_long_text_around_an_answer() -> None:
    assert parse_yes_no("\x00yes\x07") == "yes"
    assert parse_yes_no("yes " * 10_000) == "yes"
    assert parse_choice("blah " * 10_000 + "text", CHANNEL_OPTIONS) == "text"


# --- wrapped answers -----------------------------------------------------------------------------

FILLERS = ["please", "pls", "thanks", "por favor", "gracias"]
PUNCTUATION = " .,!?¡¿:;()\"'*#~-…\n\t"


@st.composite
def wrapped(draw: st.DrawFn, answer: str) -> str:
    """The answer with random capitals, punctuation and whitespace around it, and up to two
    filler words before or after it."""
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in answer)
    core = draw(st.text(PUNCTUATION, max_size=3)) + cased + draw(st.text(PUNCTUATION, max_size=3))
    before = draw(st.lists(st.sampled_from(FILLERS), max_size=2))
    after = draw(st.lists(st.sampled_from(FILLERS), max_size=2 - len(before)))
    return " ".join([*before, core, *after])


@given(st.data(), st.sampled_from(OPTION_WORDS + [(o.key, str(o.number)) for o in CHANNEL_OPTIONS]))
def test_a_wrapped_option_still_reads(data: st.DataObject, case: tuple[str, str]) -> None:
    key, word = case
    assert parse_choice(data.draw(wrapped(word)), CHANNEL_OPTIONS) == key


@given(st.data(), st.sampled_from(YES_NO_WORDS))
def test_a_wrapped_yes_or_no_still_reads(data: st.DataObject, case: tuple[str, str]) -> None:
    answer, word = case
    text = data.draw(wrapped(word))
    assert parse_yes_no(text) == answer
    assert parse_answer("scale", text, also_yes_no=True) == answer


NUMBERS = [(n, str(n)) for n in range(1, 6)] + [
    (n, w) for w, n in NUMBER_WORDS.items() if 1 <= n <= 5 and " " not in w
]


@given(st.data(), st.sampled_from(NUMBERS), st.sampled_from(["", " stars", "/5", "⭐"]))
def test_a_wrapped_number_still_reads(
    data: st.DataObject, case: tuple[int, str], suffix: str
) -> None:
    value, word = case
    assert parse_scale(data.draw(wrapped(word + suffix))) == value
    assert parse_scale(data.draw(wrapped("⭐" * value))) == value


# --- two answers are no answer -------------------------------------------------------------------


@given(st.sampled_from(OPTION_WORDS), st.sampled_from(OPTION_WORDS))
def test_two_options_are_no_answer(first: tuple[str, str], second: tuple[str, str]) -> None:
    text = f"{first[1]} or {second[1]}"
    assert parse_choice(text, CHANNEL_OPTIONS) == (first[0] if first[0] == second[0] else None)


# "y" and "n" count only alone, so they are left out here.
@given(
    st.sampled_from([w for w in YES_WORDS if len(w) > 1]),
    st.sampled_from([w for w in NO_WORDS if len(w) > 1]),
)
def test_yes_and_no_together_are_no_answer(yes: str, no: str) -> None:
    assert parse_yes_no(f"{yes} and {no}") is None
    assert parse_yes_no(f"{no} but {yes}") is None


@given(st.integers(1, 5), st.integers(1, 5))
def test_two_numbers_are_no_answer(first: int, second: int) -> None:
    assert parse_scale(f"{first} or {second}") == (first if first == second else None)
