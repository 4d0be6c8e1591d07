"""Whether people read what we sent: an email's tracking image fetched (an open), a details
link followed (a click).

Much of that traffic is not a person. Mail privacy proxies fetch every image as the mail
arrives (Apple Mail Privacy Protection), security gateways follow every link to scan it, and
phones fetch links in texts to draw a preview. Those count as `machine`: by their client name
when they give one, or by coming within seconds of the message being handed over, before a
person could have looked. Gmail's image proxy fetches when the person opens the mail, so it
counts as a person. Only the kind of client is kept, never an address or a full user agent.
"""

from __future__ import annotations

import datetime as dt
import re

from django.http import HttpRequest
from django.utils import timezone

from victim_notify.messages.models import Engagement, Notification

PREFETCH_WINDOW = dt.timedelta(seconds=10)

_MACHINES = [
    (
        "link-preview",
        re.compile(
            r"facebookexternalhit|twitterbot|whatsapp|slackbot|telegrambot|"
            r"skypeuripreview|linkedinbot|discordbot|iframely",
            re.I,
        ),
    ),
    (
        "scanner",
        re.compile(
            r"barracuda|mimecast|proofpoint|safelinks|symantec|forcepoint|"
            r"trendmicro|sophos|fortiguard|bitdefender|cisco|ironport",
            re.I,
        ),
    ),
    (
        "script",
        re.compile(r"^$|curl|wget|python|go-http-client|java/|okhttp|libwww|httpclient", re.I),
    ),
    ("bot", re.compile(r"bot\b|crawler|spider|preview|monitor|headless", re.I)),
]
_PEOPLE = [
    ("gmail", re.compile(r"GoogleImageProxy", re.I)),
    ("yahoo", re.compile(r"YahooMailProxy", re.I)),
    ("browser", re.compile(r"mozilla|applewebkit|gecko", re.I)),
]


def classify(request: HttpRequest, note: Notification) -> tuple[bool, str]:
    """(machine, the kind of client)."""
    agent = request.headers.get("User-Agent", "")
    if request.method == "HEAD":
        return True, "head-request"
    for label, pattern in _MACHINES:
        if pattern.search(agent):
            return True, label
    sent = note.sent_at or note.created_at
    if sent and timezone.now() - sent < PREFETCH_WINDOW:
        return True, "prefetch"
    for label, pattern in _PEOPLE:
        if pattern.search(agent):
            return False, label
    return False, "other"


def record(note: Notification, kind: str, request: HttpRequest) -> Engagement:
    machine, agent = classify(request, note)
    return Engagement.objects.create(notification=note, kind=kind, machine=machine, agent=agent)
