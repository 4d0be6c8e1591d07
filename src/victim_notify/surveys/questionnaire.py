"""The default questionnaire, reproducing the case study's survey, and the wording around it.

Questions are per experiment and editable; these are what a new experiment starts with."""

from __future__ import annotations

from typing import Any

DEFAULT_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "preferred_channel",
        "kind": "choice",
        "options": ["text", "email", "letter", "phone"],
        "texts": {
            "en": "How would you like to get updates about a police report in the future? "
            "Reply 1 for text message, 2 for email, 3 for a mailed letter, 4 for a phone call.",
            "es": "¿Cómo prefiere recibir noticias sobre un reporte policial en el futuro? "
            "Responda 1 mensaje de texto, 2 correo electrónico, 3 carta por correo postal, "
            "4 llamada telefónica.",
        },
    },
    {
        "key": "service_rating",
        "kind": "scale",
        "texts": {
            "en": "How would you rate the service you received from {agency}? "
            "Reply 1 (very poor) to 5 (excellent).",
            "es": "¿Cómo calificaría el servicio que recibió de {agency}? "
            "Responda de 1 (muy malo) a 5 (excelente).",
        },
    },
    {
        "key": "trust",
        "kind": "scale",
        "also_yes_no": True,
        "texts": {
            "en": "Do you trust the police? Reply 1 (not at all) to 5 (completely), or YES or NO.",
            "es": "¿Confía usted en la policía? Responda de 1 (nada) a 5 (totalmente), o SÍ o NO.",
        },
    },
    {
        "key": "likely_to_call",
        "kind": "yes_no",
        "texts": {
            "en": "Are you likely to call us for more information about your report? "
            "Reply YES or NO.",
            "es": "¿Es probable que nos llame para pedir más información sobre su reporte? "
            "Responda SÍ o NO.",
        },
    },
]

# What the report calls each answer; custom keys show as they are.
ANSWER_WORDS = {
    "text": "text messages",
    "email": "email",
    "letter": "a mailed letter",
    "phone": "a phone call",
}

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "intro": "{agency}: {count} short questions about your report {report_number}, to help "
        "us serve victims better. Answering is up to you. Reply STOP to opt out. "
        "Or answer online: {link}",
        "reask": "Sorry, we could not read that answer. ",
        "thanks": "Thank you. Your answers help {agency} serve crime victims better. "
        "If you are in danger, call 911.",
        "subject": "A short survey about your report {report_number}",
        "invitation": "{agency} would like to know how we did. {count} short questions about "
        "your report {report_number}; answering is up to you and takes a minute:\n\n{link}\n\n"
        "If you are in danger, call 911.",
    },
    "es": {
        "intro": "{agency}: {count} preguntas breves sobre su reporte {report_number}, para "
        "ayudarnos a servir mejor a las víctimas. Responder es opcional. Responda STOP para no "
        "recibir mensajes. O conteste en línea: {link}",
        "reask": "Perdón, no entendimos su respuesta. ",
        "thanks": "Gracias. Sus respuestas ayudan a {agency} a servir mejor a las víctimas. "
        "Si está en peligro, llame al 911.",
        "subject": "Una breve encuesta sobre su reporte {report_number}",
        "invitation": "{agency} quiere saber cómo lo hicimos. {count} preguntas breves sobre su "
        "reporte {report_number}; responder es opcional y toma un minuto:\n\n{link}\n\n"
        "Si está en peligro, llame al 911.",
    },
}


def wording(language: str, key: str) -> str:
    return WORDING.get(language, WORDING["en"])[key]
