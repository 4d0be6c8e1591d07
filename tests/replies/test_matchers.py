"""The reply matchers: whole-message keywords, free-text opt-out, urgency.

The figures asserted here are the ones reported in src/victim_notify/replies/data/README.md,
rounded down to 0.05, so a change that makes a matcher worse fails. When a change makes one
better, raise the floor in the same commit.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from victim_notify.replies import evaluation, matchers
from victim_notify.replies.matchers import is_opt_out, keyword, normalise, urgency

# --- keyword() ----------------------------------------------------------------------------------

ALL_KEYWORDS = [(word, kind) for kind, words in matchers.KEYWORDS.items() for word in words]


@pytest.mark.parametrize(("word", "kind"), ALL_KEYWORDS)
def test_every_keyword_is_recognised_in_any_case(word: str, kind: str) -> None:
    for variant in (word, word.upper(), word.capitalize(), f" {word.upper()} "):
        assert keyword(variant) == kind, variant


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Stop.", "opt_out"),
        ("stop!!", "opt_out"),
        (" STOP ", "opt_out"),
        ("STOP\n", "opt_out"),
        ('"stop"', "opt_out"),
        ("Stop 🛑", "opt_out"),
        ("STOP ALL", "opt_out"),
        ("opt-out", "opt_out"),
        ("OPT OUT", "opt_out"),
        ("Opt_Out", "opt_out"),
        ("Unsubscribe.", "opt_out"),
        ("¡ALTO!", "opt_out"),
        ("Basta!!!", "opt_out"),
        ("cancelar.", "opt_out"),
        ("Sí", "opt_in"),
        ("si", "opt_in"),
        ("SÍ.", "opt_in"),
        ("Si!", "opt_in"),
        ("Yes!", "opt_in"),
        ("un-stop", "opt_in"),
        ("Start", "opt_in"),
        ("HELP?", "help"),
        ("¿Ayuda?", "help"),
        ("info.", "help"),
    ],
)
def test_keyword_ignores_case_punctuation_and_spacing(text: str, kind: str) -> None:
    assert keyword(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "stop it please",
        "please stop",
        "stop stop",
        "stop by the station tomorrow?",
        "end of story thanks",
        "YES MAY I HELP IN ANY WAY",
        "Yes I filed thank you",
        "help me",
        "si señor",
        "stopping",
        "unstoppable",
        "cancel my appointment",
        "",
        "   ",
        "🙏",
        "Thank you",
    ],
)
def test_keyword_is_whole_message_only(text: str) -> None:
    assert keyword(text) is None


# --- normalise() and keyword() properties -------------------------------------------------------

_PUNCTUATION = string.punctuation + string.whitespace + "¡¿…“”‘’«»—–·‼⁇\u00a0\u3000"


@given(st.text())
@example("ℌ")
@example("ǰ")
@example("ß")
@example("Ⅻ")
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text())
def test_matchers_never_raise_and_return_their_types(text: str) -> None:
    assert keyword(text) in (None, "opt_out", "opt_in", "help")
    assert isinstance(is_opt_out(text), bool)
    assert set(urgency(text)) <= set(matchers.URGENCY_RULES)


@st.composite
def _keyword_with_noise(draw: st.DrawFn) -> tuple[str, str]:
    word, kind = draw(st.sampled_from([*ALL_KEYWORDS, ("opt-out", "opt_out"), ("sí", "opt_in")]))
    upper = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
    before = draw(st.text(alphabet=_PUNCTUATION, max_size=6))
    after = draw(st.text(alphabet=_PUNCTUATION, max_size=6))
    return before + cased + after, kind


@given(_keyword_with_noise())
def test_surrounding_whitespace_and_punctuation_keep_a_keyword(case: tuple[str, str]) -> None:
    text, kind = case
    assert keyword(text) == kind


@pytest.mark.parametrize(("word", "kind"), ALL_KEYWORDS)
def test_free_text_opt_out_agrees_with_the_keywords(word: str, kind: str) -> None:
    assert is_opt_out(word.upper()) == (kind == "opt_out")


# --- the bare HELP decision and the case study ----------------------------------------------------

CASE_STUDY_REPLIES = [
    "Thank you very much for all your help.",
    "Thanks",
    "Heroes in blue out there, thanks",
    "Thank you so much",
    "Ok. Thanks",
    "Thank you",
    "Thank You",
    "Yes I was a victim and I will be sending the paperwork back this weekend thank you.",
    "Thank you. I will call if assailant comes back.",
    "Thank you TPD.",
    "Thank you.",
    "Thank You for letting me know",
    "Thank. You. Very. Much.",
    "Thank u",
    "I received the message report concerning the crime and am thankful for your continuing "
    "for the exact proceeduring thereof. Have a wonderful day to you and the department!!!!",
    "YES MAY I HELP IN ANY WAY",
    "Thank",
    "Yes I filed thank you",
    "Thank you for looking into the matter",
]


@pytest.mark.parametrize("reply", CASE_STUDY_REPLIES)
def test_case_study_replies_are_neither_urgent_nor_opt_outs(reply: str) -> None:
    assert urgency(reply) == []
    assert not is_opt_out(reply)
    assert keyword(reply) is None


@pytest.mark.parametrize("reply", CASE_STUDY_REPLIES)
def test_case_study_replies_are_in_both_labelled_sets_as_not(reply: str) -> None:
    for name in evaluation.MATCHERS:
        labels = {row.label for row in evaluation.load(name) if row.text == reply}
        assert labels == {"not"}, (name, reply)


def test_bare_help_gets_the_help_text_and_is_also_flagged_urgent() -> None:
    for reply in ("HELP", "help!", "Ayuda", "AYUDA!!"):
        assert keyword(reply) == "help"
        assert urgency(reply) == ["help"]
    assert keyword("INFO") == "help"
    assert urgency("INFO") == []


@pytest.mark.parametrize(
    ("reply", "rules"),
    [
        ("help me he is here", {"help", "offender_here"}),
        ("he said he'd kill me", {"threat"}),
        ("he's outside my house right now", {"offender_here"}),
        ("ya regresó", {"offender_here"}),
        ("I want to end it", {"self_harm"}),
        ("no quiero vivir", {"self_harm"}),
        ("I want to report he won't stop calling me", {"offender_contact"}),
    ],
)
def test_urgent_replies_name_the_rules_they_matched(reply: str, rules: set[str]) -> None:
    assert rules <= set(urgency(reply))


def test_every_urgency_rule_has_words_for_staff() -> None:
    assert set(matchers.URGENCY_LABELS) == set(matchers.URGENCY_RULES)


@pytest.mark.parametrize(
    "reply",
    [
        "he came back last week and took the TV",
        "if he comes back I'll call 911",
        "he hasn't come back since",
        "this wait is killing me, any update?",
        "es urgente que me manden el reporte para el seguro",
    ],
)
def test_past_conditional_and_idiomatic_replies_are_not_urgent(reply: str) -> None:
    assert urgency(reply) == []


@pytest.mark.parametrize(
    "reply",
    [
        "stop by the station tomorrow?",
        "can you stop the car from being towed",
        "I want to report he won't stop calling me",
        "end of story thanks",
        "please don't stop looking for my bike",
        "If I text STOP will I still get court dates?",
    ],
)
def test_stop_in_passing_is_not_an_opt_out(reply: str) -> None:
    assert not is_opt_out(reply)


# --- configuration ------------------------------------------------------------------------------


def test_agency_can_add_opt_out_phrases_and_exceptions() -> None:
    # "ya estuvo" (Mexican Spanish: "that's enough") is not in the default list
    assert not is_opt_out("ya estuvo con los recordatorios")
    assert is_opt_out("ya estuvo con los recordatorios", extra=[r"ya estuvo"])
    assert is_opt_out("stop texting me")
    assert not is_opt_out("stop texting me", exceptions=[r"stop texting"])


def test_agency_can_add_urgency_rules_or_extend_existing_ones() -> None:
    assert urgency("code red at my place") == []
    assert urgency("code red at my place", extra={"agency_code": [r"code red"]}) == ["agency_code"]
    assert urgency("he has a taser", extra={"weapon": [r"taser"]}) == ["weapon"]


@pytest.mark.parametrize(
    "pattern",
    [
        *matchers.OPT_OUT_PATTERNS,
        *matchers.OPT_OUT_EXCEPTIONS,
        *(p for patterns in matchers.URGENCY_RULES.values() for p in patterns),
        *matchers.URGENCY_PAST,
        *matchers.URGENCY_NOT_NOW,
        *matchers.URGENCY_NOW,
        *matchers.URGENCY_ALL_CLEAR,
    ],
)
def test_every_pattern_is_a_plain_regex_in_normalised_form(pattern: str) -> None:
    """Patterns match `normalise()` output, so one with capitals or accents could never match."""
    compiled = matchers._compile((pattern,))
    assert compiled.pattern
    assert pattern == pattern.lower()
    assert all(ord(c) < 128 for c in pattern)


# --- the labelled sets ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(evaluation.MATCHERS))
def test_labelled_sets_are_big_enough_and_both_halves_hold_both_classes(name: str) -> None:
    rows = evaluation.load(name)
    assert len(rows) >= 220
    assert len({row.text for row in rows}) == len(rows)
    for split in evaluation.SPLITS:
        for language in evaluation.LANGUAGES:
            labels = {row.label for row in evaluation.select(rows, split, language)}
            assert labels == {evaluation.MATCHERS[name].positive, "not"}, (split, language)


# Precision and recall reached on the `test` half (never tuned on), rounded down to 0.05.
TEST_SPLIT_FLOORS = {
    ("opt_out", None): (1.00, 1.00),
    ("opt_out", "en"): (1.00, 1.00),
    ("opt_out", "es"): (1.00, 1.00),
    ("urgency", None): (0.95, 1.00),
    ("urgency", "en"): (0.95, 1.00),
    ("urgency", "es"): (1.00, 1.00),
}


@pytest.mark.parametrize(("key", "floors"), TEST_SPLIT_FLOORS.items())
def test_matchers_keep_their_precision_and_recall_on_the_test_split(
    key: tuple[str, str | None], floors: tuple[float, float]
) -> None:
    name, language = key
    scores = evaluation.score(name, "test", language)
    misses = [row.text for row, _ in evaluation.misclassified(name, "test", language)]
    assert scores.precision >= floors[0], misses
    assert scores.recall >= floors[1], misses


def test_misclassified_lists_exactly_the_errors_the_scores_count() -> None:
    for name in evaluation.MATCHERS:
        scores = evaluation.score(name, None)
        assert len(evaluation.misclassified(name, None)) == scores.fp + scores.fn
        assert scores.total == len(evaluation.load(name))


def test_scores_arithmetic() -> None:
    s = evaluation.Scores(tp=8, fp=2, fn=2, tn=8)
    assert (s.precision, s.recall) == (0.8, 0.8)
    assert math.isclose(s.f1, 0.8)
    assert evaluation.Scores(0, 0, 3, 5).precision == 0.0


# --- fresh probes: replies written after the matchers ------------------------------------------
#
# The labelled CSVs were written before the matchers, by the person who then wrote them, so the
# `test` half is held out from tuning but not from its author: it scores ~1.0 and says little
# about phrasings nobody wrote down. These probes were written later, each labelled before it
# was scored. The SEEN probes were then used to generalise the patterns (tuning material now).
# The HELD_OUT probe was scored once and never tuned on: its floors are the honest estimate of
# how the matchers do on a reply phrased in a way nobody anticipated. Do not tune on it; to
# measure a change, write a new probe.


def _probe_scores(
    rows: Sequence[tuple[str, bool, str]], predict: Callable[[str], object], language: str | None
) -> tuple[evaluation.Scores, list[str]]:
    tp = fp = fn = tn = 0
    misses = []
    for text, positive, lang in rows:
        if language is not None and lang != language:
            continue
        predicted = bool(predict(text))
        tp += predicted and positive
        fp += predicted and not positive
        fn += positive and not predicted
        tn += not predicted and not positive
        if predicted != positive:
            misses.append(text)
    return evaluation.Scores(tp, fp, fn, tn), misses


PROBE_FLOORS = [
    # (probe, language, precision floor, recall floor)
    ("opt_out_seen", None, 1.00, 1.00),
    ("urgency_seen", None, 0.95, 1.00),
    ("opt_out_held_out", None, 1.00, 0.70),
    ("opt_out_held_out", "en", 1.00, 0.65),
    ("opt_out_held_out", "es", 1.00, 0.75),
    ("urgency_held_out", None, 0.80, 0.75),
    ("urgency_held_out", "en", 0.80, 0.80),
    ("urgency_held_out", "es", 0.80, 0.70),
]


@pytest.mark.parametrize(("probe", "language", "min_precision", "min_recall"), PROBE_FLOORS)
def test_matchers_keep_their_figures_on_the_fresh_probes(
    probe: str, language: str | None, min_precision: float, min_recall: float
) -> None:
    rows, predict = {
        "opt_out_seen": (OPT_OUT_PROBES_SEEN, is_opt_out),
        "urgency_seen": (URGENCY_PROBES_SEEN, urgency),
        "opt_out_held_out": (OPT_OUT_PROBE_HELD_OUT, is_opt_out),
        "urgency_held_out": (URGENCY_PROBE_HELD_OUT, urgency),
    }[probe]
    scores, misses = _probe_scores(rows, predict, language)
    assert scores.precision >= min_precision, misses
    assert scores.recall >= min_recall, misses


# (text, is the positive class, language). Fictional, like the CSVs.

OPT_OUT_PROBES_SEEN: list[tuple[str, bool, str]] = [
    ("Please quit sending me these", True, "en"),
    ("i don't need these reminders", True, "en"),
    ("Stop spamming me", True, "en"),
    ("unsubscribe pls", True, "en"),
    ("STOP SENDING", True, "en"),
    ("I'm done with these texts", True, "en"),
    ("take me off", True, "en"),
    ("Stop. Just stop.", True, "en"),
    ("Remove", True, "en"),
    ("No longer interested, please stop", True, "en"),
    ("Can I opt out of these?", True, "en"),
    ("I'd like to stop receiving these texts", True, "en"),
    ("don't want texts from the police", True, "en"),
    ("please no more", True, "en"),
    ("ya no quiero que me escriban", True, "es"),
    ("ya dejen de mandar mensajes", True, "es"),
    ("no me manden mensajes", True, "es"),
    ("bájenme de la lista", True, "es"),
    ("no quiero que me contacten", True, "es"),
    ("párenle ya con los mensajes", True, "es"),
    ("Do not send texts to this phone", True, "en"),
    ("This is not my phone number, please remove it", True, "en"),
    ("You have the wrong person", True, "en"),
    ("No thank you, I don't want updates", True, "en"),
    ("Can you stop by my work instead?", False, "en"),
    ("The stop light camera may have it", False, "en"),
    ("I want the texts to continue", False, "en"),
    ("No more news?", False, "en"),
    ("when do the texts end?", False, "en"),
    ("can I stop the investigation? I got my stuff back", False, "en"),
    ("Please remove the second address from my report", False, "en"),
    ("I canceled the card already", False, "en"),
    ("the end of my street has cameras", False, "en"),
    ("he needs to stop texting my daughter", False, "en"),
    ("Stop the person who took my car!", False, "en"),
    ("no quiero que dejen de avisarme", False, "es"),
    ("ya no me ha llamado, gracias", False, "es"),
    ("¿van a dejar de mandarme mensajes cuando cierre el caso?", False, "es"),
    ("¿puedo cancelar mi queja?", False, "es"),
    ("mi vecino no para de hacer ruido", False, "es"),
    ("thanks, no more questions from me", False, "en"),
    ("Is this a scam? Why are you texting me?", False, "en"),
    ("please keep texting me", False, "en"),
    ("Who gave you my number? Stop", True, "en"),
    ("I'm not the victim, this is my work phone, please stop", True, "en"),
    ("pls remove me", True, "en"),
    ("stop msging", True, "en"),
    ("Take this number off", True, "en"),
    ("no more pls", True, "en"),
    ("Please discontinue these messages", True, "en"),
    ("I would like to opt-out", True, "en"),
    ("unsubscribed", True, "en"),
    ("no thank you, please don't send me any more", True, "en"),
    ("STOP STOP", True, "en"),
    ("Stop contacting my phone", True, "en"),
    ("enough already", True, "en"),
    ("I don't want to get any more notifications about my case", True, "en"),
    ("End these messages", True, "en"),
    ("Cancel my subscription", True, "en"),
    ("quit messaging me already", True, "en"),
    ("Stop txting me I dont want these", True, "en"),
    ("plz take me off ur list", True, "en"),
    ("No more alerts", True, "en"),
    ("Please block this number from your system", True, "en"),
    ("I do not consent to these texts", True, "en"),
    ("I don't wish to be notified anymore", True, "en"),
    ("no mas porfavor", True, "es"),
    ("ya no quiero mensajes", True, "es"),
    ("ya no me escribas", True, "es"),
    ("por favor quítenme de esta lista", True, "es"),
    ("no me envíen más notificaciones", True, "es"),
    ("deja de mandarme textos", True, "es"),
    ("basta, no manden nada", True, "es"),
    ("no quiero que me sigan mandando cosas", True, "es"),
    ("ya no, por favor, no manden más mensajes", True, "es"),
    ("este no es el número de esa persona", True, "es"),
    ("No gracias, no quiero recibir nada", True, "es"),
    ("dejen de molestar", True, "es"),
    ("stop by whenever, I'm home all day", False, "en"),
    ("Can you guys stop him? he keeps posting my pics", False, "en"),
    ("The texts stopped coming, is my case closed?", False, "en"),
    ("I'd like the messages in Spanish please", False, "en"),
    ("no more stolen items to add", False, "en"),
    ("end result: they took everything", False, "en"),
    ("How do I cancel my police report?", False, "en"),
    ("Quick question, will I get texts about court?", False, "en"),
    ("Please stop the release of my name to the press", False, "en"),
    ("never mind, found it", False, "en"),
    ("can you remove the tow fee?", False, "en"),
    ("I had to stop working because of the injury", False, "en"),
    ("I texted STOP to the other number by accident, can I still get updates?", False, "en"),
    ("Is there a way to get the updates by email instead of text as well", False, "en"),
    ("he said stop or he'll hurt me", False, "en"),
    ("ok, thank you, no further questions", False, "en"),
    ("no me dejen de informar", False, "es"),
    ("¿pueden pasar por mi casa a recoger el video?", False, "es"),
    ("¿cuándo terminan los mensajes?", False, "es"),
    ("paré en la tienda y ahí fue", False, "es"),
    ("no más quiero saber si lo agarraron", False, "es"),
    ("nomás quiero saber cuándo es la corte", False, "es"),
    ("quiero darme de alta para recibir mensajes", False, "es"),
    ("ya no tengo el carro, lo vendí", False, "es"),
    ("gracias, ya no necesito nada más", False, "es"),
    ("el alto de mi calle tiene cámara", False, "es"),
    ("ya no me duele, gracias", False, "es"),
    ("cancelaron la cita?", False, "es"),
]

URGENCY_PROBES_SEEN: list[tuple[str, bool, str]] = [
    ("hes at my window", True, "en"),
    ("he broke in again tonight he's still here", True, "en"),
    ("please come quick", True, "en"),
    ("I need the police now", True, "en"),
    ("he's got my kids and won't give them back", True, "en"),
    ("someone is trying to open my door", True, "en"),
    ("he is threatening me with a knife", True, "en"),
    ("I think someone's in the house", True, "en"),
    ("my neighbor just shot at my car", True, "en"),
    ("i cant do this anymore i want to die", True, "en"),
    ("I don't want to be alive", True, "en"),
    ("I'm going to hurt myself", True, "en"),
    ("he found out where I moved, he's outside", True, "en"),
    ("emergency", True, "en"),
    ("help!! he's back", True, "en"),
    ("the same guy is in the parking lot waiting for me", True, "en"),
    ("Ven rápido, está aquí", True, "es"),
    ("me quiere pegar, está gritando afuera", True, "es"),
    ("necesito ayuda ya", True, "es"),
    ("me está amenazando por mensaje", True, "es"),
    ("llegó borracho y está rompiendo todo", True, "es"),
    ("me quiero suicidar", True, "es"),
    ("está tratando de abrir la puerta", True, "es"),
    ("hay alguien en mi casa", True, "es"),
    ("mi esposo me golpeó y estoy sangrando", True, "es"),
    ("I will let you know if he shows up", False, "en"),
    ("He came by on Tuesday but left", False, "en"),
    ("I'm dying to get my bike back", False, "en"),
    ("The detective helped a lot", False, "en"),
    ("Is there help for the funeral costs?", False, "en"),
    ("He was arrested yesterday thank god", False, "en"),
    ("The gun was his brother's", False, "en"),
    ("Knife was in the car when police came", False, "en"),
    ("If I see him again should I call 911 or the substation?", False, "en"),
    ("¿qué hago si lo vuelvo a ver?", False, "es"),
    ("gracias por ayudarme", False, "es"),
    ("ya pasó el peligro, gracias", False, "es"),
    ("la pistola era de mi papá", False, "es"),
    ("¿necesito ayuda de un abogado?", False, "es"),
    ("hubo humo pero los bomberos ya vinieron la semana pasada", False, "es"),
    ("the fire was out before police arrived", False, "en"),
    ("Killing it, you guys rock", False, "en"),
    ("Urgent: can I get my report number for insurance", False, "en"),
    ("He threw my stuff out last month", False, "en"),
    ("My dog was hurt in the break-in but is fine now", False, "en"),
    ("HELP HE IS HERE", True, "en"),
    ("he just kicked in the door", True, "en"),
    ("I'm locked in my room, he's screaming", True, "en"),
    ("she's got a gun, please hurry", True, "en"),
    ("someone's breaking into my car right now", True, "en"),
    ("he's drunk and coming over here", True, "en"),
    ("he keeps texting me he's gonna find me", True, "en"),
    ("i'm going to end everything tonight", True, "en"),
    ("I can't take it anymore, I have the pills in my hand", True, "en"),
    ("he's parked across the street again", True, "en"),
    ("the guy who hit me is at the gas station by my house", True, "en"),
    ("my mom collapsed", True, "en"),
    ("please he's going to hurt me", True, "en"),
    ("send help", True, "en"),
    ("i need help please", True, "en"),
    ("HELP!!!!!!", True, "en"),
    ("he stabbed my brother", True, "en"),
    ("house is burning", True, "en"),
    ("they're shooting outside", True, "en"),
    ("he showed up at my job and is yelling at me", True, "en"),
    ("my ex broke in, I'm hiding", True, "en"),
    ("he said he'll come back and finish it", True, "en"),
    ("I'm scared he's watching my house", True, "en"),
    ("socorro por favor", True, "es"),
    ("está aquí, ayúdenme", True, "es"),
    ("me está golpeando", True, "es"),
    ("viene para acá, tengo miedo", True, "es"),
    ("dijo que va a volver a matarme", True, "es"),
    ("tiene un cuchillo y está en la puerta", True, "es"),
    ("hay fuego en el edificio", True, "es"),
    ("mi hija se quiere matar", True, "es"),
    ("ya no quiero vivir así", True, "es"),
    ("me está esperando afuera de mi trabajo", True, "es"),
    ("auxilio, se metió a mi casa", True, "es"),
    ("me están disparando", True, "es"),
    ("lo acabo de ver afuera", True, "es"),
    ("help desk number?", False, "en"),
    ("thank you for your help and kindness", False, "en"),
    ("I will call right away if he shows up again", False, "en"),
    ("He came around on Sunday but didn't do anything", False, "en"),
    ("Is it normal to still be scared?", False, "en"),
    ("The kids are fine, thank you for asking", False, "en"),
    ("My car was on fire in the report, is it totaled?", False, "en"),
    ("the suspect has a gun permit?", False, "en"),
    ("the gun shop on Speedway got robbed too", False, "en"),
    ("Was he armed? the report doesn't say", False, "en"),
    ("He's back in court next week right?", False, "en"),
    ("He's out of jail?? when?", False, "en"),
    ("I'd kill for a coffee lol, long night. thanks officer", False, "en"),
    ("He hurt my feelings more than anything", False, "en"),
    ("my ankle still hurts but doctor says ok", False, "en"),
    ("Where do I get help with counseling?", False, "en"),
    ("help with restitution forms?", False, "en"),
    ("bleeding heart neighbors keep asking about it lol", False, "en"),
    ("gracias, si veo algo les aviso", False, "es"),
    ("ya no ha vuelto a pasar nada", False, "es"),
    ("¿me ayudan con la carta para mi trabajo?", False, "es"),
    ("ayuda para pagar el funeral?", False, "es"),
    ("el fuego ya se apagó hace rato, gracias", False, "es"),
    ("¿lo van a soltar? tengo miedo", False, "es"),
    ("mi hija está bien, gracias", False, "es"),
    ("¿dónde puedo pedir ayuda psicológica?", False, "es"),
    ("me dijo el oficial que me llamarían", False, "es"),
    ("regresaron mis documentos por correo, gracias", False, "es"),
    ("¿es urgente que vaya a la estación?", False, "es"),
    ("estoy afuera de la corte, ¿a qué sala voy?", False, "es"),
]

OPT_OUT_PROBE_HELD_OUT: list[tuple[str, bool, str]] = [
    ("Please stop sending me text messages regarding this incident.", True, "en"),
    ("I am requesting that you cease contacting me.", True, "en"),
    ("no longer want these", True, "en"),
    ("Dont need updates anymore thx", True, "en"),
    ("STOP messaging me!!", True, "en"),
    ("🛑🛑 STOP", True, "en"),
    ("You can stop now, thanks", True, "en"),
    ("i want off this list", True, "en"),
    ("UNSUBSCRIBE ME", True, "en"),
    ("Stop, I already talked to the detective", True, "en"),
    ("Please quit texting this number, it's my daughter's phone", True, "en"),
    ("Not my number. Stop.", True, "en"),
    ("Remove me please", True, "en"),
    ("no more!!", True, "en"),
    ("leave me be", True, "en"),
    ("quit it", True, "en"),
    ("Stop stop", True, "en"),
    ("I'd prefer not to receive texts", True, "en"),
    ("please don't text again", True, "en"),
    ("I don't want any communication from you", True, "en"),
    ("stop with the texts already", True, "en"),
    ("End texts", True, "en"),
    ("wrong #", True, "en"),
    ("This isn't Maria's phone anymore", True, "en"),
    ("I opt out", True, "en"),
    ("cancel texts", True, "en"),
    ("ya no quiero recibir estos mensajes", True, "es"),
    ("no manden más textos", True, "es"),
    ("dejen de mandar mensajes a este número", True, "es"),
    ("por favor ya no me contacten", True, "es"),
    ("alto ya", True, "es"),
    ("BASTA!!", True, "es"),
    ("quiero salirme de la lista", True, "es"),
    ("no me vuelvan a mandar nada", True, "es"),
    ("Ya no me envíen información", True, "es"),
    ("no gracias, ya no quiero", True, "es"),
    ("ya no me escriban a este número", True, "es"),
    ("stop, ya no quiero saber", True, "es"),
    ("no quiero notificaciones", True, "es"),
    ("número incorrecto", True, "es"),
    ("Stopped by the store after and they had the same bike for sale lol", False, "en"),
    ("Please don't stop the investigation", False, "en"),
    ("What do I do to make him stop?", False, "en"),
    ("can I get a text when he's released?", False, "en"),
    ("I got your message, thank you", False, "en"),
    ("Why does the message say theft? It was a robbery", False, "en"),
    ("How do I remove graffiti, is there a city program?", False, "en"),
    ("He texted me to stop contacting him, is that legal?", False, "en"),
    ("please keep me posted", False, "en"),
    ("my messages to the detective aren't going through", False, "en"),
    ("Can you end the hold on my car?", False, "en"),
    ("I cancelled my credit cards like the officer said", False, "en"),
    ("end of the day works for me", False, "en"),
    ("I quit that job last year", False, "en"),
    ("no more info from my side, just wanted to say thanks", False, "en"),
    ("ok stop by at 3 then", False, "en"),
    ("he still won't stop posting about me", False, "en"),
    ("is it possible to remove my address from the public report?", False, "en"),
    ("yes please continue to update me", False, "en"),
    ("Sí, soy la víctima", False, "es"),
    ("¿me pueden avisar si lo detienen?", False, "es"),
    ("no más le quiero preguntar algo al detective", False, "es"),
    ("se paró un carro raro afuera ayer", False, "es"),
    ("quiero quitar mi dirección del reporte", False, "es"),
    ("ya no es necesario que vengan", False, "es"),
    ("¿cómo cancelo la denuncia?", False, "es"),
    ("ya terminaron de revisar el video?", False, "es"),
    ("basta que me digan el número del caso", False, "es"),
    ("gracias, ya no tengo dudas", False, "es"),
    ("alto de la 4a y la 6a, ahí pasó", False, "es"),
    ("no dejen de investigar por favor", False, "es"),
]

URGENCY_PROBE_HELD_OUT: list[tuple[str, bool, str]] = [
    ("He's banging on the windows", True, "en"),
    ("he is here again please hurry", True, "en"),
    ("911 he's here", True, "en"),
    ("I'm so scared he's in the yard", True, "en"),
    ("please come, he has a knife", True, "en"),
    ("he's threatening to come over and kill me", True, "en"),
    ("got a text from him saying I'm next", True, "en"),
    ("My neighbor is shooting at our house", True, "en"),
    ("he keeps calling from different numbers, says he's watching me", True, "en"),
    ("help someone broke in", True, "en"),
    ("i overdosed", True, "en"),
    ("I want to kill myself", True, "en"),
    ("not safe here, he's back", True, "en"),
    ("he's at the door with a crowbar", True, "en"),
    ("im bleeding bad", True, "en"),
    ("he strangled me and left, I think he's coming back", True, "en"),
    ("there's a man with a gun outside the building", True, "en"),
    ("he's trying to run me off the road right now", True, "en"),
    ("my apartment is full of smoke", True, "en"),
    ("My friend is having a seizure", True, "en"),
    ("she is threatening to burn the house down", True, "en"),
    ("please help my daughter", True, "en"),
    ("Emergency. He's here", True, "en"),
    ("I'm going to jump", True, "en"),
    ("he threatened me in 2019 too, it's in the old report", True, "en"),
    ("ayuda por favor, está aquí otra vez", True, "es"),
    ("me está amenazando con un cuchillo", True, "es"),
    ("está tratando de tumbar la puerta", True, "es"),
    ("regresó y me pegó", True, "es"),
    ("tengo miedo, está afuera", True, "es"),
    ("me quiero quitar la vida", True, "es"),
    ("hay un incendio en el departamento de al lado", True, "es"),
    ("necesito una patrulla urgente", True, "es"),
    ("me sigue en su carro ahorita", True, "es"),
    ("no puedo respirar", True, "es"),
    ("él anda con una pistola buscándome", True, "es"),
    ("me mandó mensaje que me va a matar", True, "es"),
    ("ya no quiero estar aquí, me voy a tomar todas las pastillas", True, "es"),
    ("mi hijo está herido", True, "es"),
    ("I'll call 911 if anything happens, thanks", False, "en"),
    ("He came back for his stuff last week with a deputy, all good", False, "en"),
    ("thank you for helping us", False, "en"),
    ("help line number for victims?", False, "en"),
    ("the stabbing happened on the 3rd, the report says the 4th", False, "en"),
    ("was the gun loaded? just curious", False, "en"),
    ("the shooting was on camera, do you need it?", False, "en"),
    ("the smoke detector was also stolen lol", False, "en"),
    ("my arm is still healing from that night", False, "en"),
    ("Will I need to testify if he comes back to court?", False, "en"),
    ("He's back in Mexico from what I heard", False, "en"),
    ("is there an emergency contact for the detective?", False, "en"),
    ("I feel a lot safer since the arrest", False, "en"),
    ("gracias por la ayuda, Dios los bendiga", False, "es"),
    ("si lo veo les marco", False, "es"),
    ("¿qué pasa si regresa a la casa?", False, "es"),
    ("¿me pueden ayudar a sacar una copia?", False, "es"),
    ("el incendio del carro fue hace dos semanas", False, "es"),
    ("ya lo arrestaron? me dijeron que sí", False, "es"),
    ("ya no tengo miedo, gracias", False, "es"),
    ("me robaron el cuchillo de cocina, es raro", False, "es"),
    ("ayúdenme a entender el reporte por favor", False, "es"),
    ("mi hijo regresó de la escuela y encontró la puerta abierta", False, "es"),
    ("el oficial me dijo que si vuelve le llame al 911", False, "es"),
    ("está bien, gracias", False, "es"),
    ("¿ya salió de la cárcel?", False, "es"),
    ("quisiera ayuda para víctimas", False, "es"),
    ("fue una pistola de juguete según el oficial", False, "es"),
    ("ok, ya me llegó el correo", False, "es"),
]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ya regresó y está afuera de mi casa", "es"),
        ("He came back and is outside my house", "en"),
        ("no", ""),
        ("STOP", ""),
        ("gracias", ""),
        ("Gracias por la información", "es"),
        ("thanks for the info, my son has the receipts", "en"),
    ],
)
def test_the_language_of_a_reply_is_named_only_when_clear(text, language):  # type: ignore[no-untyped-def]
    assert matchers.reply_language(text) == language
