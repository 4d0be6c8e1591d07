"""The details page a text links to: the 8 facts in full, on the agency's own site.

The link carries a signed, expiring token naming the message, and no personal data. The page
shows the report's facts, not the victim's name or contact details.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found

from victim_notify.agencies.config import cached_config
from victim_notify.agencies.models import Agency
from victim_notify.cases.portal import link_for
from victim_notify.contacts.normalise import display_phone
from victim_notify.messages import engagement
from victim_notify.messages.handoff import still_may_be_told
from victim_notify.messages.models import EngagementKind, Notification, Status
from victim_notify.messages.render import facts_for, read_details_token
from victim_notify.messages.schedule import snapshot


@never_cache
def details(request: HttpRequest, token: str) -> HttpResponse:
    # Every answer, a refusal included, stays out of search engines and out of the Referer
    # header of whatever the visitor opens next: the token is in the address.
    try:
        response = _details(request, token)
    except Http404 as exc:
        response = page_not_found(request, exc)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _details(request: HttpRequest, token: str) -> HttpResponse:
    try:
        key = read_details_token(token)
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None
    note = Notification.objects.select_related("report", "agency").filter(details_key=key).first()
    if note is None or note.status == Status.CANCELLED:
        raise Http404("This link is not valid.")
    assert note.report is not None  # only a report's notice has a details page
    agency: Agency = note.agency
    if request.method == "GET":
        engagement.record(note, EngagementKind.CLICK, request)
    if timezone.now() > note.created_at + dt.timedelta(days=agency.details_link_days):
        with translation.override(note.language):
            return render(
                request,
                "messages/details_expired.html",
                {"agency": agency, "language": note.language},
                status=410,
            )
    config = cached_config(agency.pk)
    if not still_may_be_told(note):
        # The report was reclassified (for example as domestic violence) or the person removed
        # since the message went out: show no case details, only where to call.
        division = config.division_by_id[note.report.division_id]
        with translation.override(note.language):
            return render(
                request,
                "messages/details_withheld.html",
                {
                    "agency": agency,
                    "language": note.language,
                    "substation_name": division.substation_name,
                    "substation_phone": display_phone(division.substation_phone),
                },
            )
    with translation.override(note.language):
        facts = facts_for(snapshot(note.report, config), config, note.language)
        return render(
            request,
            "messages/details.html",
            {
                "agency": agency,
                "facts": facts,
                "language": note.language,
                "statutory_notice": config.statutory_notices.get(note.language, ""),
                "case_url": link_for(note.party) if note.party is not None else "",
            },
        )


# A transparent 1x1 GIF.
_PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@never_cache
def email_opened(request: HttpRequest, token: str) -> HttpResponse:
    """The tracking image in every email. Always answers the image, so a mail client shows
    nothing broken, whatever the token."""
    try:
        key = read_details_token(token)
    except signing.BadSignature:
        key = ""
    note = Notification.objects.filter(details_key=key).first() if key else None
    if note is not None:
        engagement.record(note, EngagementKind.OPEN, request)
    response = HttpResponse(_PIXEL, content_type="image/gif")
    response["Referrer-Policy"] = "no-referrer"
    return response
