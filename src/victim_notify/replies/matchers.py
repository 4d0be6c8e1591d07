"""Read what a victim texts back: whole-message keywords, free-text opt-outs, urgent replies.

Every pattern is plain data at module level, so an agency can read, extend or override it
without touching the functions. Patterns are regular expressions matched against the output of
`normalise()`: casefolded, accents stripped, apostrophes dropped ("don't" -> "dont", "más" ->
"mas"), every other non-letter, non-digit character turned into a space, whitespace collapsed.
A pattern therefore never needs accents, capitals or punctuation, and is matched on whole words
(it is wrapped in `\\b...\\b`).

Replies are also cut into clauses at sentence punctuation and commas, and most patterns are
tried clause by clause, so "STOP. I didn't sign up for this" finds its keyword sentence, and a
qualifier such as "if he comes back" only disarms its own clause.

How the lists were tuned, and what they score on held-out replies: `data/README.md`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

# --- whole-message keywords ----------------------------------------------------------------------

#: Keyword replies handled whatever else is configured (carriers and the FCC expect these).
#: Compared with the whole reply after `normalise()` and with its spaces removed, so "Stop.",
#: " STOP ", "opt-out", "Opt Out" and "SÍ." all count, while "stop it please" does not.
KEYWORDS: Mapping[str, frozenset[str]] = {
    "opt_out": frozenset(
        {
            "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke",
            "remove", "alto", "parar", "cancelar", "basta",
        }
    ),
    "opt_in": frozenset({"start", "unstop", "yes", "si"}),
    "help": frozenset({"help", "info", "ayuda"}),
}  # fmt: skip

# --- free-text opt-out ---------------------------------------------------------------------------

#: Common misspellings of STOP that count as the keyword inside a free-text reply (not in
#: `keyword()`, whose list is the published one).
OPT_OUT_KEYWORD_TYPOS: frozenset[str] = frozenset({"stahp", "stopp", "stpo", "sotp", "stp"})
#: More words that revoke consent when a clause holds nothing else but filler: "enough
#: already", "no more pls", "no mas porfavor" ("no more"/"no mas" are joined into one word first).
OPT_OUT_CLAUSE_WORDS: frozenset[str] = frozenset({"enough", "nomore", "nomas", "unsubscribed"})

#: Words that may surround an opt-out keyword in a clause without changing what it means:
#: "stop please", "STOP ya!", "stop stop stop", "alto por favor", "cancel it now".
OPT_OUT_FILLER: frozenset[str] = frozenset(
    {
        "please", "pls", "plz", "plez", "now", "already", "just", "it", "this", "that",
        "these", "all", "me", "again", "asap", "thanks", "thank", "you", "thx", "ty", "ok",
        "okay", "ya", "porfa", "porfavor", "por", "favor", "ahora", "gracias",
    }
)  # fmt: skip

#: Free-text revocations, tried on each clause. Written for recall first (a missed revocation
#: breaks the FCC rule), then narrowed by `OPT_OUT_EXCEPTIONS` and by naming what must stop
#: (texts, messages, contacting me), so "stop by", "he won't stop calling me" and "can you stop
#: the car from being towed" are left alone.


def _any(*words: str) -> str:
    """A regex alternative group of `words`, so the pattern lists below stay readable."""
    return "(?:" + "|".join(words) + ")"


_MESSAGES = _any(
    r"texts?", r"txts?", "text messages", "messages", r"msgs?", "sms", r"notifications?",
    r"alerts?", "updates", r"emails?", r"communications?", r"reminders?", r"notices?", "spam",
    "mensajes", "textos", "mensajitos", "msjs", "notificaciones",
)  # fmt: skip
_SENDING = _any(
    "texting", "txting", "messaging", "msging", "sending", "contacting", "emailing", "spamming",
    "receiving", "getting", _MESSAGES,
)  # fmt: skip
OPT_OUT_PATTERNS: tuple[str, ...] = (
    # stop/quit/end + what: "stop texting me", "stop sending me these", "stop all texts"
    r"(?:stop|stp|quit|cease|end|cancel|discontinue|halt|block|pause) "
    r"(?:(?:all|the|these|those|your|ur|with|this|my) )*" + _any(_SENDING, "subscription"),
    r"enough (?:with |of )?(?:the |these |your |all )?" + _MESSAGES,
    r"(?:done|finished|tired|sick) (?:with|of) (?:the |these |your |all |this )?" + _MESSAGES,
    # "stop bothering me", "stop calling this number": any -ing verb aimed at the sender
    r"stop \w+ing (?:me|us|this (?:number|phone))",
    r"^(?:please )?no more(?: please| thanks| thank you)?$",
    r"^(?:ya )?no mas(?: por favor| gracias)?$",
    r"no (?:more|mas) " + _MESSAGES,
    # "don't text me", "do not contact me again", "never text me again"
    r"(?:dont|do not|never|pls dont|please dont) (?:ever )?(?:text|txt|message|msg|contact|email"
    r"|send) (?:me|us|this|anything)",
    r"(?:dont|do not|never) (?:\w+ )?(?:send|text|txt|message|contact|email)\w*(?: \w+){0,3}"
    r" (?:to )?(?:me|us|this (?:number|phone)|my (?:number|phone))",
    r"(?:dont|do not|no longer) (?:want|wish|need)(?: \w+){0,4} "
    + _any(
        _MESSAGES,
        "to receive",
        r"to be (?:contacted|notified|texted|messaged|updated)",
        r"to get (?:these|any|your)",
    ),
    r"un ?sub\w*|unsu\w*scri\w*|opt(?:ed)? (?:me )?out|optout|opting out",
    r"revoke (?:my |all )?consent|withdraw (?:my |all )?consent|(?:do not|dont|no longer) consent",
    r"block (?:this|my) (?:number|phone)",
    r"(?:not|isnt) (?:my|the right|their) (?:number|phone|cell)",
    r"no es (?:mi|el|su) (?:numero|telefono|celular)",
    r"(?:remove|delete|erase|lose) (?:me|my number|my phone number|this number|my info)",
    r"take (?:me|my number|this number|my phone number) off",
    r"leave me alone",
    r"wrong (?:number|person|phone)",
    r"^(?:im |i am )?not interested(?: in (?:these|this|your|the) (?:\w+ )?" + _MESSAGES + ")?$",
    r"^(?:please )?no " + _MESSAGES + r"(?: please)?$",
    r"(?:email|mail) only",
    # Spanish: "no más mensajes", "ya no me manden nada", "no me vuelvan a escribir"
    r"no (?:me |nos )?(?:manden|mande|mandes|mandar|envien|envie|envies|enviar|escriban|escriba"
    r"|escribas|texteen|textee|textees|contacten|contacte|molesten|moleste|vuelvan a \w+)",
    r"(?:dejen|deje|dejes|deja) de (?:mandar|enviar|escribir|textear|contactar|molestar)\w*",
    r"paren (?:los |de )?(?:mensajes|textos|mandar|enviar|escribir)\w*",
    r"no (?:quiero|deseo)(?: \w+){0,2} (?:mensajes|textos|nada)",
    r"no (?:quiero|deseo|queremos) que (?:me|nos) (?:sigan )?(?:mand|envi|escrib|contact|textee"
    r"|llam|molest|llegu)\w*",
    r"\w+(?:me|nos) de (?:la|su|esta|sus|tu) lista\w*",
    r"(?:paren\w*|basta|ya) (?:\w+ )?con (?:los|tantos|sus|estos) (?:mensajes|textos)",
    r"ya no (?:me |nos )?(?:lleguen|llegue) (?:\w+ )?(?:mensajes|textos)",
    r"(?:borren|quiten|eliminen|saquen)(?:me|nos)?(?: de (?:la|su|esta|sus) lista\w*"
    r"| mi numero| mis datos)",
    r"(?:borren|quiten|eliminen|saquen|bajen)(?:me|nos)",
    r"dar(?:me|nos)? de baja|me doy de baja",
    r"(?:numero|persona) equivocad[oa]",
    r"basta de (?:mensajes|textos)",
    r"cancelar (?:la |mi )?suscripcion",
    r"^no me interesa$",
)

#: Phrases that look like a revocation but are not; blanked out of a clause before
#: `OPT_OUT_PATTERNS` are tried. "don't stop texting me", "he won't stop calling", "no dejen de
#: mandarme información", "what happens if I reply stop?".
OPT_OUT_EXCEPTIONS: tuple[str, ...] = (
    r"(?:dont|do not|never|wont|will not|doesnt|does not|didnt|did not|cant|cannot|wouldnt)"
    r"(?: \w+)? (?:stop|quit|end|cancel|remove|unsubscribe)\w*",
    r"no (?:paren|pare|dejen|deje|dejes|para) de",
    # someone else is to stop: "tell him to stop texting me", "he needs to stop texting my
    # daughter" (a report or a request for police action, not a revocation)
    r"(?:he|she|they|him|her|them|my \w+|the \w+)(?: \w+){0,2}? (?:to )?stop",
    r"(?:what happens|what does|what if|if i|if we|si (?:contesto|respondo|escribo|mando|pongo"
    r"|envio))(?: \w+){0,4}",
)

# --- urgency ------------------------------------------------------------------------------------

_PERSON = _any(
    "he", "she", "they", "him", "guy", "man", "dude", "woman", "suspect", "offender", "assailant",
    "attacker", "robber", "thief", "ex", "someone", "somebody", "boyfriend", "husband",
)  # fmt: skip
#: "he's", "they're", "the man from the report is", "someone is": the offender as a subject.
_PERSON_IS = _any(
    "hes", "shes", "theyre", "someones", "somebodys", _PERSON + r"(?: \w+){0,4}? (?:is|are|s)"
)
_PLACE = _any(
    "door", "window", "house", "home", "yard", "backyard", "garage", "apartment", "room", "porch",
    "gate", "car", "work", "job", "school", "parking lot", "driveway", "street", "building",
    "lobby",
)  # fmt: skip

#: Help words that make a whole clause a plea when everything else in it is filler: "HELP",
#: "help me!!", "please help", "somebody help", "AYUDA!!", "auxilio", "911". A bare HELP is
#: flagged even though `keyword()` also answers it with the help text: see data/README.md.
URGENCY_HELP_WORDS: frozenset[str] = frozenset(
    {"help", "ayuda", "ayudenme", "ayudame", "auxilio", "socorro", "sos", "911", "emergency",
     "emergencia"}
)  # fmt: skip
URGENCY_HELP_FILLER: frozenset[str] = frozenset(
    {"me", "us", "please", "pls", "plz", "porfa", "por", "favor", "now", "ya", "someone",
     "somebody", "alguien", "hurry", "asap", "quick", "rapido", "urgent", "urgente", "i", "need",
     "necesito", "ahora", "ahorita", "right", "call", "llamen", "al", "an"}
)  # fmt: skip

#: Rule name -> patterns, tried on each clause. The rule names are what `urgency()` returns, so
#: staff see why a reply was flagged. Broad on purpose: a false alarm costs a glance, a missed
#: emergency costs much more.
URGENCY_RULES: Mapping[str, tuple[str, ...]] = {
    "help": (
        r"^help (?:me |us )?(?:he|she|they|hes|shes|theyre|someone|somebody|now|please|pls|im"
        r"|i am|asap)\b",
        r"(?:please|pls|plz|somebody|someone) help(?: me| us)?$",
        r"ayudenme|ayudame|auxilio|socorro",
        r"necesito ayuda(?: ya| urgente| por favor| ahora| ahorita)?$",
    ),
    "send_police": (
        r"send (?:an? |the )?(?:officer|cop|cops|police|someone|somebody|help|ambulance|patrol"
        r"|car)",
        r"call 911|llamen al 911",
        r"come (?:quick|quickly|fast|now|asap|right now)",
        r"(?:need|want|send|get) (?:the |an |a )?(?:police|cops|officer|help|someone|ambulance)"
        r"(?: here)? (?:now|asap|right now|quick|please|immediately)",
        r"ven(?:gan)? (?:rapido|pronto|ya|ahorita)|necesito (?:a )?la policia",
        r"manden (?:una |a |la )?(?:patrulla|alguien|policia|ayuda|ambulancia|oficial)",
    ),
    "threat": (
        r"threat\w*|amenaz\w*",
        r"(?:said|says|saying|told me|texted|going to|gonna|will|would|wants to|hed|hell|shed"
        r"|shell|theyll|theyd)(?: \w+){0,6}? (?:kill|hurt|shoot|stab|beat|burn|get) (?:me|us|you"
        r"|my|her|him|them|the)",
        r"(?:ill|i will|im going to|im gonna) (?:kill|hurt|shoot|stab)",
        r"(?:im|youre|ur|you are|were) dead if",
        r"knows where (?:i|we) (?:live|work)|sabe donde (?:vivo|vivimos|trabajo)",
        r"(?:me|nos|te|los|la|lo|les) (?:va|iba|van|iban|quiere|quieren) a? ?(?:matar|golpear"
        r"|pegar|lastimar|quemar|hacer dano|disparar)",
        r"(?:dijo|dice|dijeron)(?: \w+){0,8}? (?:mata|matar|mato|golpea|pega|lastima|quema)\w*",
    ),
    "offender_here": (
        _PERSON_IS + r"(?: \w+){0,2} (?:back(?! in (?:court|jail|prison|custody))|here|outside"
        r"|inside|coming(?! to court))",
        r"(?:coming|headed|heading) (?:over|here|this way)"
        r"|on (?:his|her|their|the) way (?:here|over)|omw",
        _PERSON + r" (?:just|jus) \w+|just saw (?:him|her|them|the guy|the man)",
        _PERSON_IS + r"(?: \w+)? (?:at|by|near|outside|across(?: from)?) (?:the|my|our) \w+",
        r"(?:ya |ahi )?viene (?:para aca|para aqui|hacia aca|en camino|a mi casa)|va para mi casa"
        r"|acabo de ver|lo acabo de ver",
        _PERSON + r"(?: \w+){0,3}? (?:came|come|comes|coming) back",
        _PERSON_IS + r" (?:\w+ing |trying to \w+ |at |on |in |into |through |outside |around |by "
        r"|near |in front of )+(?:my|the|our) " + _PLACE,
        r"waiting (?:for me|outside)|hay (?:alguien|un hombre|un tipo|una persona) (?:en|afuera)",
        _PERSON_IS + r"(?: \w+)? (?:banging|breaking|knocking|standing|parked|yelling|screaming"
        r"|shouting|fighting|hitting|attacking|kicking|pounding|drunk|high|watching"
        r"|trying to (?:get|break))",
        r"kick\w* (?:in )?(?:the|my) door|broke (?:in|down)(?: the| my)?(?: door)?"
        r"|forc\w* (?:the|my) (?:door|window)",
        r"(?:just|now) (?:showed up|walked in\w*|pulled up|drove up|came in)|showed up at",
        r"being followed|following me|watching me",
        r"esta (?:afuera|aqui|aca|adentro|en (?:la|mi|el) (?:casa|puerta|patio|trabajo|cuarto)"
        r"|tocando|golpeando|metiendo|estacionado|parado|entrando)",
        r"se esta metiendo|quiere entrar|anda afuera|afuera de mi (?:casa|trabajo|puerta)",
        r"esta (?:gritando|rompiendo|golpeando|pateando|tratando de|intentando|tocando|forzando"
        r"|quebrando|destruyendo|disparando|esperando)",
        r"me esta esperando",
        r"regreso|volvio|ya llego",
        r"lo vi (?:otra vez|de nuevo)",
        r"me (?:esta )?sigui\w*|me esta siguiendo",
    ),
    "offender_contact": (
        r"(?:wont|will not|doesnt|does not|keeps?|keep on|still) (?:stop )?(?:calling|texting"
        r"|following|messaging|harassing|driving (?:by|past)|coming (?:by|around)|watching"
        r"|showing up)",
        r"no deja de (?:llamar|seguir|mandar|molestar|amenazar|buscar)\w*",
        r"me sigue (?:llamando|molestando|mandando|siguiendo|buscando)|sigue pasando",
    ),
    "self_harm": (
        r"kill (?:myself|my self)|end (?:it|it all|my life|things|everything)"
        r"|take my (?:own )?life",
        r"cant take (?:it|this) any ?more|(?:have|got|holding) (?:the |my |a bunch of )?pills",
        r"(?:want|wanna|going) (?:to )?die|wish i (?:was|were) dead|better off dead",
        r"suicid\w*|(?:hurt|hurting|cut|cutting) myself|overdose",
        r"(?:dont|do not) want to (?:live|be alive|be here)|cant go on|no reason to live",
        r"(?:took|take|taking|swallowed) (?:a bunch of|all my|too many|all the|a lot of) pills",
        r"matarme|(?:me|se) (?:voy|quiero|quiere|va) a? ?(?:matar|morir)|quitarme la vida"
        r"|quiero morir\w*",
        r"no quiero (?:seguir )?vivi\w*|acabar con (?:todo|mi vida)|ya no aguanto",
    ),
    "injury": (
        r"bleeding(?! heart)|cant breathe|not breathing|unconscious|passed out|choked me|choking"
        r"|strangl\w*|collapsed|seizure|heart attack|stroke|not responding|wont wake up"
        r"|convulsion\w*",
        r"hurt (?:bad|badly|really bad)|(?:im|i am|is|are) (?:hurt|injured)",
        r"ambulance|hit me again|beat me|stabbed|shot me|cant get up|broke my (?:arm|leg|nose"
        r"|jaw|ribs?)",
        r"sangr\w*|no (?:puede |puedo )?respira\w*|inconsciente|desmaya\w*|herid[oa]s?",
        r"me (?:pego|golpeo|ahorco)|me esta (?:pegando|golpeando)|ambulancia",
    ),
    "fire": (
        r"(?<!was )(?<!were )on fire|fire in (?:my|the)|theres (?:a )?fire|there is (?:a )?fire"
        r"|smoke|burning",
        r"incendio|fuego|se esta quemando|humo",
    ),
    "weapon": (
        r"(?:has|have|got|with|holding|pulled|pointing|waving|carrying) (?:a |an |his |her |the )?"
        r"(?:gun|knife|pistol|rifle|machete|bat|weapon|firearm)(?! permit| license| safe| shop)",
        r"(?:hes|he is|shes|she is|theyre|they are|is) armed",
        r"(?:tiene|trae|saco|con|anda con) (?:una? |la |el |su )?(?:pistola|cuchillo|arma|navaja"
        r"|bate|machete|rifle)",
        r"anda armad[oa]|armad[oa]s?",
        r"shot at|shooting|shots fired|gunshots?|dispar\w*|balazos|balacera",
    ),
    "child_taken": (
        r"(?:hes|shes|theyre|he|she|they) (?:has|got|took|taken|grabbed) (?:my|our) (?:kids?"
        r"|children|son|daughter|baby)",
        r"se (?:llevo|robo) a (?:mis?|nuestr[oa]s?) (?:hij[oa]s?|nin[oa]s?|bebe)",
    ),
    "hiding": (r"hiding|locked (?:myself )?in|lock myself|me escondi|me encerre|escondid[oa]",),
}

#: What each urgency rule means, in the words staff read on the inbox and the alert email.
URGENCY_LABELS: Mapping[str, Any] = {
    "help": _("asks for help"),
    "send_police": _("asks for police or an ambulance"),
    "threat": _("a threat"),
    "offender_here": _("offender there or coming"),
    "offender_contact": _("offender keeps making contact"),
    "self_harm": _("may harm themself"),
    "injury": _("someone hurt"),
    "fire": _("fire"),
    "weapon": _("a weapon"),
    "child_taken": _("a child taken"),
    "hiding": _("hiding"),
}


#: Rules about something happening now; a clause that places it in the past, makes it
#: conditional or denies it disarms them ("he came back last week", "I will call if assailant
#: comes back", "nadie salió herido"). Threats, self-harm and pleas for help are not disarmed
#: this way: a threat points forward whenever it was made.
URGENCY_TIME_SENSITIVE: frozenset[str] = frozenset(
    {"offender_here", "offender_contact", "send_police", "injury", "fire", "weapon", "hiding"}
)
#: Places the clause in the past; outweighed by `URGENCY_NOW` in the same clause.
URGENCY_PAST: tuple[str, ...] = (
    r"last (?:week|night|month|year|time|weekend|\w+day)|yesterday|(?:\w+ )?(?:days|weeks"
    r"|months|years) ago|the other day|the next day|that (?:night|day)|used to|on \w+day",
    r"ayer|anoche|(?:la|el) (?:semana|mes|ano) pasad[oa]|hace (?:\w+ )?(?:dias|semanas|meses"
    r"|anos|rato)|la otra vez",
)
#: Makes the clause hypothetical or denies it, whatever else it says.
URGENCY_NOT_NOW: tuple[str, ...] = (
    # conditional, hypothetical, asking what to do
    r"if (?:he|she|they|someone|anyone|the|assailant|i|it)|in case|what (?:should|do|can) i do"
    r"|what to do|should i|si (?:regresa|vuelve|viene|lo veo|pasa|llega)|que hago si"
    r"|en caso de",
    # denied
    r"hasnt|has not|havent|have not|never|didnt|did not|no one|nobody|nadie|not (?:hurt"
    r"|injured|here)|no (?:ha|han|he|lo he|estoy|esta|hay)|ya se fue|he left|se fue",
    # someone else coming back
    r"(?:officer|detective|oficial|agente|policia|cop|son|daughter|husband|wife|hijo|hija"
    r"|esposo|esposa)(?: \w+){0,2}? (?:came|come|comes|be) back",
    r"(?:fire|it) (?:is|was|went) out|ya se apago|se apago",
    r"(?:regreso|volvio|regresaria|volvera|llego) (?:\w+ )?(?:el|la|mi) (?:detective|oficial"
    r"|agente|policia|hijo|hija|esposo|esposa)",
)
#: Marks a clause as about now even when it also mentions the past ("he came back last week
#: and now he's outside again").
URGENCY_NOW: tuple[str, ...] = (r"right now|now|again|otra vez|de nuevo|ahorita|ahora",)
#: Anywhere in the reply, says the danger is over: disarms time-sensitive rules and threats.
URGENCY_ALL_CLEAR: tuple[str, ...] = (
    r"(?<!not )(?:im|i am|were|we are|everyone is|everybody is) (?:ok|okay|fine|safe|good)\b",
    r"(?:is|are) (?:fine|ok|okay) now|i feel safe|estamos bien|estoy bien|todo bien|a salvo",
    r"moved (?:to|away|out)|se mudo|in jail|en la carcel",
)

# --- the functions -------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans("", "", "'’‘`´ʼʹ")
_JOINED = re.compile(r"\b(?:opt out|stop all|no more|no mas)\b")
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n\r¿¡…‼⁇]+")


def normalise(text: str) -> str:
    """Casefold, strip accents, drop apostrophes, turn every other non-alphanumeric character
    (punctuation, emoji, symbols) into a space, collapse whitespace. Only for matching: the
    reply is stored and shown as the victim wrote it. Repeats until stable, so it is idempotent
    even for characters whose compatibility form casefolds again."""
    for _attempt in range(5):
        folded = unicodedata.normalize("NFKD", text.casefold())
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
        folded = folded.translate(_APOSTROPHES)
        folded = " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())
        if folded == text:
            break
        text = folded
    return text


def keyword(text: str) -> str | None:
    """ "opt_out", "opt_in" or "help" when the whole reply is one keyword, else None."""
    compact = normalise(text).replace(" ", "")
    for kind, words in KEYWORDS.items():
        if compact in words:
            return kind
    return None


def is_opt_out(text: str, extra: Iterable[str] = (), exceptions: Iterable[str] = ()) -> bool:
    """Whether a reply revokes consent to be texted: a keyword, or any reasonable way of saying
    so. `extra` adds revocation patterns and `exceptions` adds phrases to ignore, in the same
    form as `OPT_OUT_PATTERNS` and `OPT_OUT_EXCEPTIONS`."""
    if keyword(text) == "opt_out":
        return True
    positives = _compile((*OPT_OUT_PATTERNS, *extra))
    negatives = _compile((*OPT_OUT_EXCEPTIONS, *exceptions))
    stop_words = KEYWORDS["opt_out"] | OPT_OUT_KEYWORD_TYPOS | OPT_OUT_CLAUSE_WORDS
    for clause in _clauses(text):
        words = set(_JOINED.sub(lambda m: m[0].replace(" ", ""), clause).split())
        if words & stop_words and words <= stop_words | OPT_OUT_FILLER:
            return True
        if positives.search(negatives.sub(" | ", clause)):
            return True
    return False


def urgency(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> list[str]:
    """The names of the urgency rules a reply matches, in `URGENCY_RULES` order; empty when it
    is not urgent. `extra` maps a rule name (new or existing) to more patterns."""
    rules = {name: tuple(patterns) for name, patterns in URGENCY_RULES.items()}
    for name, patterns in (extra or {}).items():
        rules[name] = (*rules.get(name, ()), *patterns)
    all_clear = _compile(URGENCY_ALL_CLEAR).search(normalise(text)) is not None
    past, not_now, now = _compile(URGENCY_PAST), _compile(URGENCY_NOT_NOW), _compile(URGENCY_NOW)
    matched: set[str] = set()
    for clause in _clauses(text):
        words = set(clause.split())
        if words & URGENCY_HELP_WORDS and words <= URGENCY_HELP_WORDS | URGENCY_HELP_FILLER:
            matched.add("help")
        later = not_now.search(clause) is not None or (
            past.search(clause) is not None and now.search(clause) is None
        )
        for name, patterns in rules.items():
            if name in matched or not _compile(patterns).search(clause):
                continue
            time_sensitive = name in URGENCY_TIME_SENSITIVE
            if (time_sensitive and later) or (all_clear and (time_sensitive or name == "threat")):
                continue
            matched.add(name)
    return [name for name in rules if name in matched]


def _clauses(text: str) -> list[str]:
    return [c for c in (normalise(part) for part in _CLAUSE_BREAK.split(text)) if c]


@functools.lru_cache(maxsize=256)
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


# Words that say which language a reply is in: common, short, and not shared by the two.
_SPANISH_WORDS = frozenset(
    "el la los las que de del mi mis esta estoy es son por para con una uno y pero ya aqui "
    "casa afuera ayuda gracias porque cuando donde quien hijo hija esposo senor senora no si "
    "tengo tiene hay otra vez muy bien policia".split()
)
_ENGLISH_WORDS = frozenset(
    "the is are my me and but he she it to of in on at this that with for you your was "
    "have has house outside help thanks please when where who son daughter husband again "
    "very police yes".split()
)


def reply_language(text: str) -> str:
    """ "es" or "en" when a reply is clearly written in it (at least two telling words, more
    than of the other), else "": one word proves nothing ("no" is both)."""
    words = normalise(text).split()
    spanish = sum(w in _SPANISH_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    if spanish >= 2 and spanish > english:
        return "es"
    if english >= 2 and english > spanish:
        return "en"
    return ""
