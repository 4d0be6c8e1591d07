"""Unsubscribing from email with one click (RFC 8058), and the page behind the link.

Every email to a victim carries `List-Unsubscribe: <https://…/u/TOKEN>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`; mail clients show an "Unsubscribe" button
and, when it is pressed, POST to the link without cookies or a session. So the POST needs no
CSRF token and answers 200 itself, with no redirect; it records an opt-out of that address from
the agency and sends nothing back (a confirmation email after an unsubscribe is what RFC 8058
asks senders not to do). A GET only shows a page with a button, because mail scanners open
links on their own.

The token names the notification and carries a truncated HMAC under the site's secret, so it
cannot be forged or guessed, and no personal data. It does not expire: an unsubscribe link
must keep working as long as the email is kept.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.defaults import page_not_found

from victim_notify.agencies.config import cached_config
from victim_notify.contacts.models import ContactKind, OptOutSource
from victim_notify.contacts.optouts import opt_out
from victim_notify.messages.models import MessageKind, Notification

UNSUBSCRIBE_SALT = "victim_notify.unsubscribe"
_MAC_BYTES = 12

# The page's words. Kept here rather than in the translation catalogue: the page must read
# the same in both languages the day it ships, whoever maintains the catalogue.
WORDS = {
    "en": {
        "title": "Stop emails",
        "ask": "Stop emails from {agency} to this address?",
        "explain": (
            "You will get no more emails from us about any report at this address. Texts to "
            "your phone, if you gave one, are not affected: reply STOP to a text to stop those."
        ),
        "button": "Stop emails",
        "done_title": "You will get no more emails",
        "done": "{agency} will send no more emails to this address.",
        "again": "Changed your mind? Reply START to one of our emails.",
    },
    "es": {
        "title": "Dejar de recibir correos",
        "ask": "¿Dejar de recibir correos de {agency} en esta dirección?",
        "explain": (
            "No recibirá más correos nuestros sobre ningún reporte en esta dirección. Los "
            "mensajes de texto a su teléfono, si nos dio uno, no cambian: responda ALTO a un "
            "texto para dejar de recibirlos."
        ),
        "button": "Dejar de recibir correos",
        "done_title": "No recibirá más correos",
        "done": "{agency} no enviará más correos a esta dirección.",
        "again": "¿Cambió de opinión? Responda START a uno de nuestros correos.",
    },
}


def _mac(notification_id: uuid.UUID, secret: str | bytes) -> bytes:
    return salted_hmac(
        UNSUBSCRIBE_SALT, notification_id.hex, secret=secret, algorithm="sha256"
    ).digest()[:_MAC_BYTES]


def _token(notification_id: uuid.UUID, secret: str | bytes) -> str:
    raw = notification_id.bytes + _mac(notification_id, secret)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsubscribe_token(notification_id: uuid.UUID) -> str:
    """38 characters: the notification's id and a truncated HMAC of it, base64url."""
    return _token(notification_id, settings.SECRET_KEY)


def read_unsubscribe_token(token: str) -> uuid.UUID:
    """The notification id in a genuine token (else BadSignature). Tokens made under a key
    since rotated into SECRET_KEY_FALLBACKS still work."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise signing.BadSignature("not an unsubscribe link") from None
    if len(raw) != 16 + _MAC_BYTES:
        raise signing.BadSignature("not an unsubscribe link")
    notification_id = uuid.UUID(bytes=raw[:16])
    # The whole token is compared, not the decoded bytes: base64 has several spellings of
    # the same bytes, and only ours is accepted.
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        if constant_time_compare(_token(notification_id, secret), token):
            return notification_id
    raise signing.BadSignature("not an unsubscribe link")


def unsubscribe_headers(notification: Notification) -> dict[str, str]:
    """The RFC 8058 header pair for an email (an https link, and a mailto: to the agency's
    reply-to when it has one). None for texts, nor for alerts to the agency's own staff."""
    if notification.channel != "email" or notification.kind == MessageKind.STAFF_ALERT:
        return {}
    agency = cached_config(notification.agency_id).agency
    base = agency.public_base_url.rstrip("/")
    links = [f"<{base}/u/{unsubscribe_token(notification.pk)}>"]
    if agency.reply_to:
        links.append(f"<mailto:{agency.reply_to}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(links),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@csrf_exempt  # RFC 8058: the client POSTs without cookies; the token is the credential
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        response = _unsubscribe(request, token)
    except Http404 as exc:
        response = page_not_found(request, exc)
    # The token is in the address: keep it out of search engines and Referer headers.
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        notification_id = read_unsubscribe_token(token)
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None
    note = (
        Notification.objects.select_related("agency", "contact")
        .filter(pk=notification_id, channel="email", contact__kind=ContactKind.EMAIL)
        .first()
    )
    if note is None:
        raise Http404("This link is not valid.")
    language = note.language if note.language in WORDS else "en"
    agency = note.agency
    words = {k: v.format(agency=agency.name) for k, v in WORDS[language].items()}
    done = request.method == "POST"
    if done:
        opt_out(
            agency,
            note.contact,
            source=OptOutSource.REPLY,
            actor_label=f"unsubscribe link {note.pk}",
            note="email unsubscribe link (RFC 8058)",
        )
    with translation.override(language):
        return render(
            request,
            "messages/unsubscribe.html",
            {"agency": agency, "language": language, "words": words, "done": done},
        )
