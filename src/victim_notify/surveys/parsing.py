"""Read a survey answer that a victim texted back, in English or Spanish.

People answer in their own words: "Text please", "5!!", "sí claro", "⭐⭐⭐⭐", "No, I won't need
to". Each parser returns the canonical answer, or None when it cannot be sure. A wrong answer
stored without anyone noticing does more harm than asking the question twice, so a None is
always the answer to anything that could mean two things: two options or numbers named, a
hedge ("maybe", "no sé"), a number outside the scale, or a negation such as "no email". The
caller asks again once, then skips the question.

STOP and the other opt-out words are handled before any of this runs, so they are not handled
here.

The messages are matched on words, not characters. `_tokens()` casefolds, strips accents, drops
apostrophes ("don't" -> "dont"), squeezes repeated letters ("yesss" -> "yes", "call" -> "cal";
the word lists are squeezed the same way, so they never need to be) and keeps only words,
numbers, stars and slashes. Every word list below is plain text and goes through the same
function, so a list entry never needs accents, capitals or punctuation.

Decisions about words that could mean two things:

- "mail" alone is a mailed letter, as in US English; "email" and "e-mail" are email. In Spanish
  "correo" alone (and "por correo") is email, as "correo electrónico" is; "correo postal",
  "carta" and "carta por correo" are a letter; "por mail" is email, as Spanish speakers use it.
- A choice is read from its words or its digit ("2", "#2", "option 2", "la 2", "2️⃣"), never
  from a number word: "una carta" and "the email one" use "una" and "one" as articles, and
  "los dos" means "both".
- Naming two channels is ambiguous even when one is incidental ("text me on my phone"), and so
  is any negation ("no email", "don't call"), since working out which option was refused
  would be guessing.
- "probably" and "likely" are yes, because the yes/no question asks whether the victim is
  *likely* to call; "maybe", "possibly" and "quizás" are not an answer. "no sé" is "I don't
  know", never no. "y" and "n" count only when they are the whole answer (give or take "please"
  and "thanks"), since in Spanish "y" means "and".
- On a scale, only the anchors of the service-rating question are read from words:
  "excellent"/"excelente" is the top of the scale, "terrible"/"pésimo"/"very poor"/"muy malo"
  the bottom. "good" or "bueno" could be a 3 or a 4, so they are not an answer, and a rating
  word in a message with a negation ("not excellent") is not read at all.
- "4/5", "4 out of 5" and "4 de 5" are a 4 when the second number is the top of the scale;
  "8/10" on a 1 to 5 scale is not an answer. Star emoji are counted when the message has no
  number ("★★★☆☆" is 3); "not a 5" is not an answer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

_V = TypeVar("_V")


@dataclass(frozen=True)
class Option:
    """One answer to a choice question.

    Only `words` and `number` are matched, not `key`: list the key in `words` when people may
    type it. A word listed under two options names neither."""

    key: str
    number: int
    words: tuple[str, ...]


CHANNEL_OPTIONS: tuple[Option, ...] = (
    Option(
        "text",
        1,
        (
            "text", "texts", "texting", "texted", "txt", "text message", "text messages", "sms",
            "message", "messages", "msg", "texto", "textos", "mensaje", "mensajes",
            "mensaje de texto", "mensajes de texto", "msj", "mensajito",
        ),
    ),
    Option(
        "email",
        2,
        (
            "email", "emails", "e-mail", "e-mails", "emailed", "emailing", "email address",
            "correo", "correos", "correo electrónico", "por correo", "por mail",
            "mail electrónico", "electrónico",
        ),
    ),
    Option(
        "letter",
        3,
        (
            "letter", "letters", "mail", "mailed", "mailed letter", "snail mail", "postal mail",
            "regular mail", "by post", "postal", "carta", "cartas", "correo postal",
            "por correo postal", "carta por correo", "correo regular", "por correo regular",
        ),
    ),
    Option(
        "phone",
        4,
        (
            "phone", "phone call", "phone calls", "call", "calls", "calling", "call me",
            "telephone", "llamada", "llamadas", "llamada telefónica", "llamar", "llamarme",
            "llámame", "llámenme", "teléfono", "telefónica", "por teléfono", "tel",
        ),
    ),
)  # fmt: skip

#: Answers read as yes. Emoji are translated to a word before matching, so they work anywhere.
YES_WORDS: tuple[str, ...] = (
    "yes", "y", "yeah", "yea", "yah", "yep", "yup", "yes sir", "aye", "sure", "for sure", "ok",
    "okay", "okey", "of course", "definitely", "absolutely", "certainly", "totally",
    "completely", "indeed", "affirmative", "correct", "i do", "i will", "i would", "probably",
    "likely", "most likely", "very likely", "i think so", "why not", "no doubt", "you bet",
    "uh huh",
    "sí", "si", "sip", "simón", "claro", "claro que sí", "por supuesto", "desde luego", "seguro",
    "segura", "seguro que sí", "obvio", "obviamente", "cierto", "así es", "correcto", "vale",
    "dale", "afirmativo", "probablemente", "probable", "es probable", "lo más probable",
    "totalmente", "completamente", "sin duda", "creo que sí",
    "👍", "👌", "✅", "✔️", "✓", "☑️",
)  # fmt: skip

#: Answers read as no. "not" and "don't" are here so that "I don't" or "not at all" are a no,
#: and so that "yes, not now" holds both a yes and a no and is not an answer.
NO_WORDS: tuple[str, ...] = (
    "no", "n", "nope", "nah", "naw", "not", "not really", "no thanks", "no thank you",
    "probably not", "not likely", "not very likely", "unlikely", "never", "not at all",
    "of course not", "definitely not", "absolutely not", "certainly not", "no way", "negative",
    "dont", "i dont", "i dont think so", "do not", "i do not", "wont", "i wont", "will not",
    "i will not",
    "nop", "nel", "nunca", "jamás", "para nada", "no gracias", "de ninguna manera",
    "claro que no", "por supuesto que no", "probablemente no", "no es probable",
    "no muy probable", "creo que no", "no creo", "no lo creo", "tampoco", "nada", "en absoluto",
    "negativo", "seguro que no",
    "👎", "❌", "✖️", "✗", "✘", "🚫", "⛔",
)  # fmt: skip

#: A hedge anywhere makes the whole message no answer, whatever else it says: "not sure" holds
#: "sure", "no sé" holds "no", "I don't know" holds "don't".
UNSURE_WORDS: tuple[str, ...] = (
    "i dont know", "dont know", "dont really know", "idk", "dunno", "not sure", "unsure",
    "not certain", "maybe", "perhaps", "possibly", "might", "depends", "no idea", "no clue",
    "who knows", "sometimes", "kind of", "kinda", "sort of", "sorta", "more or less",
    "hard to say",
    "no sé", "nosé", "no lo sé", "no sabría", "quizás", "quizá", "tal vez", "talvez",
    "a lo mejor", "puede ser", "puede que", "posiblemente", "depende", "ni idea", "a veces",
    "más o menos", "masomenos", "quién sabe", "no estoy seguro", "no estoy segura",
    "🤷",
)  # fmt: skip

#: Number words a scale answer may use. "un" and "una" are missing on purpose: they are
#: articles ("le doy un 4"), except in "una estrella".
NUMBER_WORDS: Mapping[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10,
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "una estrella": 1,
}  # fmt: skip

#: Rating words read as the top or the bottom of a scale: the anchors the rating question
#: names ("1 (very poor) to 5 (excellent)") and words as strong. "exelente" is how "excelente"
#: is very often spelt in texts.
TOP_WORDS: tuple[str, ...] = (
    "excellent", "outstanding", "perfect", "the best",
    "excelente", "exelente", "perfecto", "perfecta",
)  # fmt: skip
BOTTOM_WORDS: tuple[str, ...] = (
    "very poor", "very bad", "terrible", "awful", "horrible", "the worst",
    "muy malo", "muy mala", "pésimo", "pésima", "malísimo", "malísima", "lo peor",
)  # fmt: skip

#: Words that turn a choice or a rating word around: "no email", "don't call", "not excellent".
NEGATIONS: tuple[str, ...] = (
    "no", "not", "dont", "didnt", "doesnt", "isnt", "wasnt", "never", "wont", "cant",
    "without", "except", "nor", "nunca", "ni", "sin", "excepto", "menos", "nada", "tampoco",
)  # fmt: skip

#: What people add around an answer; only matters for "y" and "n" (see `_yes_no`).
FILLERS: tuple[str, ...] = (
    "please", "pls", "plz", "thanks", "thank you", "thx", "ty", "por favor", "porfa", "gracias",
    "muchas gracias",
)  # fmt: skip

# --- normalising ---------------------------------------------------------------------------------

_SYMBOLS = str.maketrans(
    {
        **dict.fromkeys("👍👌✅✔✓☑", " yes "),
        **dict.fromkeys("👎❌✖✗✘🚫⛔", " no "),
        "🤷": " maybe ",
        **dict.fromkeys("⭐🌟★", " ⭐ "),
        "🔟": " 10 ",
        # Deleted rather than spaced: "don't" must stay one word.
        **dict.fromkeys("'’‘`´ʼ", ""),
    }
)
# Seven or more digits, with the usual separators: a phone number in "call me at 520-555-0134"
# names no option and no rating.
_PHONE_NUMBER = re.compile(r"\+?\(?[0-9](?:[\s().-]{0,2}[0-9]){6,}")
_REPEATS = re.compile(r"([a-z])\1+")
_TOKEN = re.compile(r"[a-z]+|[0-9]+|⭐|/")
# Python refuses to turn very long digit strings into numbers; they are out of any range.
_MAX_DIGITS = 9


def _tokens(text: str) -> list[str]:
    # An email address answers the channel question, and its letters must not be read as words.
    text = " ".join("email" if "@" in word.strip("@") else word for word in text.split())
    text = _PHONE_NUMBER.sub(" ", text.casefold()).translate(_SYMBOLS)
    # Casefold again after NFKD: compatibility forms can decompose to capitals ("ℋ" -> "H").
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _TOKEN.findall(_REPEATS.sub(r"\1", text))


def _table(entries: Iterable[tuple[str, _V]]) -> dict[tuple[str, ...], set[_V]]:
    table: dict[tuple[str, ...], set[_V]] = {}
    for words, value in entries:
        phrase = tuple(_tokens(words))
        if phrase:
            table.setdefault(phrase, set()).add(value)
    return table


def _scan(
    tokens: Sequence[str], table: Mapping[tuple[str, ...], set[_V]]
) -> list[tuple[int, int, set[_V]]]:
    """Every phrase of the table in the tokens, as (start, length, values), left to right, the
    longest phrase winning at each position: "correo postal" is one letter, not email + letter."""
    longest = max(map(len, table), default=0)
    found = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            values = table.get(tuple(tokens[i : i + size]))
            if values:
                found.append((i, size, values))
                i += size
                break
        else:
            i += 1
    return found


def _digits(token: str) -> int:
    digits = token.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _number(token: str) -> int | None:
    """The value of a token that is one number, in digits or in words."""
    if token.isdigit():
        return _digits(token)
    return _single(_NUMBER_TABLE.get((token,), set()))


_YES_NO = _table([*((w, "yes") for w in YES_WORDS), *((w, "no") for w in NO_WORDS)])
_UNSURE = _table((w, True) for w in UNSURE_WORDS)
_NUMBER_TABLE = _table(NUMBER_WORDS.items())
_RATINGS = _table([*((w, "top") for w in TOP_WORDS), *((w, "bottom") for w in BOTTOM_WORDS)])
_NEGATIONS = frozenset(tok for word in NEGATIONS for tok in _tokens(word))
_FILLERS = frozenset(tok for word in FILLERS for tok in _tokens(word))
_PER = (("/",), ("of",), ("out", "of"), ("outta",), ("de",), ("sobre",))


def _hedged(tokens: Sequence[str]) -> bool:
    return bool(_scan(tokens, _UNSURE))


def _single(values: set[_V]) -> _V | None:
    return next(iter(values)) if len(values) == 1 else None


# --- the parsers ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _option_table(
    options: tuple[tuple[str, tuple[str, ...]], ...],
) -> dict[tuple[str, ...], set[str]]:
    # Keyed on plain tuples, not on the Options, so that words given as a list still work.
    return _table((word, key) for key, words in options for word in words)


def parse_choice(text: str, options: Sequence[Option]) -> str | None:
    """The key of the one option the answer names by word or by number, else None."""
    tokens = _tokens(text)
    matches = _scan(tokens, _option_table(tuple((o.key, tuple(o.words)) for o in options)))
    # Hedges and negations are looked for outside the option words, so that an option may
    # itself be "no preference".
    rest = list(tokens)
    for start, size, _ in matches:
        rest[start : start + size] = [""] * size
    if _hedged(rest) or _NEGATIONS.intersection(rest):
        return None
    keys = {key for _, _, values in matches for key in values}
    by_number = {o.number: o.key for o in options}
    for token in rest:
        if token.isdigit():
            key = by_number.get(_digits(token))
            if key is None:
                return None
            keys.add(key)
    return _single(keys)


def _without_denominators(tokens: Sequence[str], high: int) -> list[str]:
    """ "4/5", "4 out of 5", "4 de 5" -> "4", when the second number is the top of the scale."""
    kept = []
    i = 0
    while i < len(tokens):
        kept.append(tokens[i])
        if _number(tokens[i]) is not None:
            for per in _PER:
                end = i + 1 + len(per)
                if (
                    tuple(tokens[i + 1 : end]) == per
                    and end < len(tokens)
                    and _number(tokens[end]) == high
                ):
                    i = end
                    break
        i += 1
    return kept


def _scale_values(tokens: Sequence[str], low: int, high: int) -> set[int] | None:
    """Every number the answer gives, in range or not; None when one of them is negated."""
    tokens = _without_denominators(tokens, high)
    numbers = [(i, _digits(t)) for i, t in enumerate(tokens) if t.isdigit()]
    numbers += [(start, n) for start, _, values in _scan(tokens, _NUMBER_TABLE) for n in values]
    for i, _ in numbers:
        before = tokens[max(0, i - 2) : i]
        if before[-1:] == ["not"] or before in (["not", "a"], ["not", "an"]):
            return None
    values = {n for _, n in numbers}
    if not values and "⭐" in tokens:
        values.add(tokens.count("⭐"))
    ratings = {low if v == "bottom" else high for _, _, vs in _scan(tokens, _RATINGS) for v in vs}
    if ratings and _NEGATIONS.intersection(tokens):
        return None
    return values | ratings


def _in_range(values: set[int] | None, low: int, high: int) -> int | None:
    value = _single(values or set())
    return value if value is not None and low <= value <= high else None


def parse_scale(text: str, low: int = 1, high: int = 5) -> int | None:
    """The one number from `low` to `high` the answer gives, else None."""
    tokens = _tokens(text)
    if _hedged(tokens):
        return None
    return _in_range(_scale_values(tokens, low, high), low, high)


def _yes_no(tokens: Sequence[str]) -> str | None:
    if _hedged(tokens):
        return None
    # A bare "y" or "n" counts only when everything else is "please" or "thanks".
    alone = sum(t not in _FILLERS for t in tokens) == 1
    answers: set[str] = set()
    for start, size, values in _scan(tokens, _YES_NO):
        if alone or size > 1 or len(tokens[start]) > 1:
            answers |= values
    return _single(answers)


def parse_yes_no(text: str) -> str | None:
    """ "yes" or "no", else None."""
    return _yes_no(_tokens(text))


def parse_answer(
    kind: str,
    text: str,
    options: Sequence[Option] = (),
    *,
    low: int = 1,
    high: int = 5,
    also_yes_no: bool = False,
) -> str | None:
    """The canonical answer to a question of `kind` ("choice", "scale" or "yes_no") as it is
    stored: an option key, a number ("4"), "yes" or "no"; None when the answer cannot be read.

    With `also_yes_no`, a scale question accepts a yes or a no instead of a number, but only
    from a message that gives no number at all: "yes, 5" is a 5, and "yes, 4 or 5" is no answer.
    An unknown `kind` is a bug in the questionnaire, not in the answer, so it raises ValueError.
    """
    if kind == "choice":
        return parse_choice(text, options)
    if kind == "yes_no":
        return parse_yes_no(text)
    if kind != "scale":
        raise ValueError(f"unknown question kind {kind!r}")
    tokens = _tokens(text)
    if _hedged(tokens):
        return None
    values = _scale_values(tokens, low, high)
    if also_yes_no and values == set():
        return _yes_no(tokens)
    value = _in_range(values, low, high)
    return None if value is None else str(value)
