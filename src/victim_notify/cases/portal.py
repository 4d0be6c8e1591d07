"""The victim's own case page, /case/: the report's status and history, what happens next,
who to call, how to get a copy of the report; and their choices: language, channel, no more
messages, or a call back (which lands in the staff's replies inbox).

A person gets in with the signed link on their details page (from any message with one), or
with the report number, the last 4 digits of their phone and a one-time code sent to that
phone. Either way the session then names their party on that report and nothing else; the
page shows nothing they did not give or were not already told (never another person on the
report). Every opening and every choice is audited; lookups are rate-limited by address and by
report number, and answer the same whether or not anything matched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from victim_notify.accounts.audit import record
from victim_notify.agencies.config import cached_config
from victim_notify.agencies.models import Agency
from victim_notify.cases.models import AccessCode, CaseEvent
from victim_notify.contacts.models import ContactKind, OptOutSource
from victim_notify.contacts.normalise import display_phone
from victim_notify.contacts.optouts import opt_out
from victim_notify.intake.models import Party
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.render import facts_for, format_when, new_details_key
from victim_notify.messages.schedule import snapshot
from victim_notify.messages.sms import cost
from victim_notify.providers import rate
from victim_notify.replies.models import InboundMessage, Intent

SALT = "victim-notify case page"
LINK_DAYS = 180
CODE_MINUTES = 10
CODE_TRIES = 5
CODES_PER_REPORT_PER_HOUR = 5
SESSION_PARTY, SESSION_PENDING = "case_party", "case_pending"
WRITTEN_TO = ("victim", "guardian", "reporting_party")
_TOLD = (Status.SENT, Status.DELIVERED)


def link_for(party: Party) -> str:
    """The path of the signed link to a person's case page (no personal data in it)."""
    token = signing.dumps({"p": party.pk}, salt=SALT, compress=True)
    return reverse("case-link", kwargs={"token": token})


def _code_hash(party_id: int, code: str) -> str:
    key = hashlib.sha256(f"{SALT} {settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{party_id}:{code}".encode(), hashlib.sha256).hexdigest()


class FindForm(forms.Form):
    report_number = forms.CharField(max_length=40, label=gettext_lazy("Report number"))
    last4 = forms.RegexField(
        regex=r"^\d{4}$",
        label=gettext_lazy("Last 4 digits of your phone"),
        error_messages={"invalid": gettext_lazy("Write the last 4 digits, e.g. 0134.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        label=gettext_lazy("The code we sent you"),
        error_messages={"invalid": gettext_lazy("The code is 6 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class ChoicesForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"))
    channel = forms.ChoiceField(
        label=gettext_lazy("How we contact you"),
        choices=[
            ("", gettext_lazy("Text and email")),
            ("sms", gettext_lazy("Text only")),
            ("email", gettext_lazy("Email only")),
        ],
        required=False,
    )


class CallBackForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("What is it about? (optional)"),
    )


def _public(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    # Not "no-referrer": Chromium then sends "Origin: null" with the page's own forms, which
    # CSRF protection rightly refuses. No address here carries a secret: the signed link
    # redirects at once.
    response["Referrer-Policy"] = "same-origin"
    return response


def _language(request: HttpRequest) -> str:
    wanted = request.GET.get("lang") or request.session.get("case_lang") or ""
    return wanted if wanted in ("en", "es") else "en"


@never_cache
def find(request: HttpRequest, agency: str) -> HttpResponse:
    found = get_object_or_404(Agency, slug=agency)
    language = _language(request)
    request.session["case_lang"] = language
    form = FindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["report_number"].strip()
        key = hashlib.sha256(f"{found.pk}:{number.upper()}".encode()).hexdigest()[:27]
        used, _ends = rate.hit(f"case:{key}", 3600)
        party = (
            _match(found, number, form.cleaned_data["last4"])
            if used <= CODES_PER_REPORT_PER_HOUR
            else None
        )
        if party is not None:
            _send_code(party, language)
        # The same answer whether or not anything matched.
        request.session[SESSION_PENDING] = party.pk if party else 0
        request.session["case_last4"] = form.cleaned_data["last4"]
        return redirect("case-code", agency=found.slug)
    with translation.override(language):
        return _public(
            render(
                request,
                "cases/portal_find.html",
                {"form": form, "language": language, "agency": found},
            )
        )


def _match(agency: Agency, number: str, last4: str) -> Party | None:
    for party in Party.objects.filter(
        report__agency=agency,
        report__report_number__iexact=number,
        report__purged_at=None,
        role__in=WRITTEN_TO,
        removed=False,
        phone__isnull=False,
    ).select_related("phone", "report"):
        if party.phone is not None and party.phone.value.endswith(last4):
            return party
    return None


def _send_code(party: Party, language: str) -> None:
    assert party.phone_id is not None  # _match only finds people with a phone
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    config = cached_config(party.report.agency_id)
    language = config.language_for(language)
    with translation.override(language):
        body = _(
            "%(agency)s: your code for your case page is %(code)s. It works for %(minutes)s "
            "minutes. We never ask for it by phone."
        ) % {"agency": config.agency.short_name, "code": code, "minutes": CODE_MINUTES}
    with transaction.atomic():
        AccessCode.objects.create(
            party=party,
            code_hash=_code_hash(party.pk, code),
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )
        measured = cost(body)
        Notification.objects.create(
            agency_id=party.report.agency_id,
            report=party.report,
            party=party,
            contact_id=party.phone_id,
            kind=MessageKind.ACCESS_CODE,
            channel="sms",
            language=language,
            facts_key="",
            body=body,
            segments=measured.segments,
            encoding=measured.encoding,
            details_key=new_details_key(),
            status=Status.PENDING,
            due_at=now,
            not_before=now,
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )


@never_cache
def enter_code(request: HttpRequest, agency: str) -> HttpResponse:
    found = get_object_or_404(Agency, slug=agency)
    language = _language(request)
    if SESSION_PENDING not in request.session:
        return redirect("case-find", agency=found.slug)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        party = _check_code(request.session[SESSION_PENDING], form.cleaned_data["code"])
        if party is not None:
            return _open(request, party, "code")
        form.add_error("code", _("That code is not right, or no longer works. Ask for a new one."))
    with translation.override(language):
        return _public(
            render(
                request,
                "cases/portal_code.html",
                {
                    "form": form,
                    "language": language,
                    "agency": found,
                    "last4": request.session.get("case_last4"),
                },
            )
        )


def _check_code(party_id: int, code: str) -> Party | None:
    if not party_id:
        return None
    with transaction.atomic():
        latest = (
            AccessCode.objects.select_for_update()
            .filter(party_id=party_id, used_at=None, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if latest is None or latest.attempts >= CODE_TRIES:
            return None
        if not hmac.compare_digest(latest.code_hash, _code_hash(party_id, code)):
            AccessCode.objects.filter(pk=latest.pk).update(attempts=latest.attempts + 1)
            return None
        AccessCode.objects.filter(pk=latest.pk).update(used_at=timezone.now())
    return Party.objects.select_related("report").get(pk=party_id)


@never_cache
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None
    party = Party.objects.select_related("report").filter(pk=data.get("p")).first()
    if party is None or party.report.purged_at is not None or party.removed:
        raise Http404("This link is not valid.")
    response = _open(request, party, "link")
    response["Referrer-Policy"] = "no-referrer"  # this address holds the token
    return response


def _open(request: HttpRequest, party: Party, how: str) -> HttpResponse:
    request.session.cycle_key()
    request.session[SESSION_PARTY] = party.pk
    request.session.pop(SESSION_PENDING, None)
    request.session["case_lang"] = party.language or _language(request)
    record(
        "case_page.opened",
        actor_label="victim",
        agency=party.report.agency,
        target=party.report,
        detail={"party": party.party_id, "how": how},
    )
    return redirect("case-mine")


def _mine(request: HttpRequest) -> Party:
    party = (
        Party.objects.select_related("report", "report__agency", "phone", "email")
        .filter(pk=int(request.session.get(SESSION_PARTY) or 0), removed=False)
        .filter(report__purged_at=None)
        .first()
    )
    if party is None:
        raise Http404("Open your case page again.")
    return party


@never_cache
def mine(request: HttpRequest) -> HttpResponse:
    try:
        party = _mine(request)
    except Http404:
        return _public(render(request, "cases/portal_gone.html", {"language": _language(request)}))
    return _page(request, party)


def _page(request: HttpRequest, party: Party, **extra: Any) -> HttpResponse:
    report = party.report
    config = cached_config(report.agency_id)
    language = config.language_for(party.language)
    facts = facts_for(snapshot(report, config), config, language)
    events = list(CaseEvent.objects.filter(report=report).order_by("occurred_at"))
    told = list(
        Notification.objects.filter(party=party, status__in=_TOLD)
        .exclude(kind=MessageKind.ACCESS_CODE)
        .order_by("created_at")
        .values_list("kind", "channel", "created_at")
    )
    closed = next(
        (e for e in reversed(events) if e.kind in ("case_closed", "case_suspended")), None
    )
    choices = ChoicesForm(initial={"language": language, "channel": party.preferred_channel})
    _languages(choices, [(code, _language_name(code)) for code in config.languages])
    with translation.override(language):
        history = [
            (format_when(report.reported_at, config, language), _("The report was made.")),
            *[
                (
                    format_when(at, config, language),
                    _("We wrote to you by %(channel)s.")
                    % {"channel": _("text") if channel == "sms" else _("email")},
                )
                for kind, channel, at in told
            ],
            *[(format_when(e.occurred_at, config, language), e.get_kind_display()) for e in events],
        ]
        return _public(
            render(
                request,
                "cases/portal_mine.html",
                {
                    "facts": facts,
                    "agency": config.agency,
                    "agency_phone": display_phone(config.agency.main_phone)
                    if config.agency.main_phone
                    else "",
                    "status": closed.get_kind_display() if closed else _("Open"),
                    "history": history,
                    "detective": next(
                        (e for e in reversed(events) if e.kind == "detective_assigned"), None
                    ),
                    "phone_end": party.phone.value[-4:] if party.phone else "",
                    "has_email": party.email is not None,
                    "choices": choices,
                    "callback": CallBackForm(),
                    "language": language,
                    **extra,
                },
            )
        )


def _languages(form: ChoicesForm, choices: list[tuple[str, str]]) -> None:
    field = form.fields["language"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _language_name(code: str) -> str:
    return {"en": "English", "es": "Español"}.get(code, code)


@never_cache
def save_choices(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("case-mine")
    party = _mine(request)
    config = cached_config(party.report.agency_id)
    form = ChoicesForm(request.POST)
    _languages(form, [(code, code) for code in config.languages])
    if form.is_valid():
        channel = form.cleaned_data["channel"]
        if (channel == "sms" and party.phone is None) or (
            channel == "email" and party.email is None
        ):
            channel = ""
        Party.objects.filter(pk=party.pk).update(
            preferred_language=form.cleaned_data["language"],
            language=form.cleaned_data["language"],
            preferred_channel=channel,
        )
        request.session["case_lang"] = form.cleaned_data["language"]
        record(
            "case_page.choices_changed",
            actor_label="victim",
            agency=party.report.agency,
            target=party.report,
            detail={
                "party": party.party_id,
                "language": form.cleaned_data["language"],
                "channel": channel or "both",
            },
        )
        party.refresh_from_db()
        with translation.override(party.language):
            return _page(request, party, saved=_("Your choices are saved."))
    return _page(request, party)


@never_cache
def stop(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("case-mine")
    party = _mine(request)
    agency = party.report.agency
    for contact in (party.phone, party.email):
        if contact is not None:
            opt_out(agency, contact, source=OptOutSource.WEB, actor_label="victim (case page)")
    record(
        "case_page.opted_out",
        actor_label="victim",
        agency=agency,
        target=party.report,
        detail={"party": party.party_id},
    )
    with translation.override(party.language or "en"):
        return _page(request, party, saved=_("You will get no more messages from us."))


@never_cache
def call_back(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("case-mine")
    party = _mine(request)
    form = CallBackForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    contact = party.phone or party.email
    if contact is None:
        raise Http404("No way to call back.")
    number = party.report.report_number
    InboundMessage.objects.create(
        agency=party.report.agency,
        channel="sms" if contact.kind == ContactKind.PHONE else "email",
        contact=contact,
        to_address="case page",
        body=_("Call-back asked on the case page for report %(number)s.") % {"number": number}
        + (f" {note}" if note else ""),
        provider="case-page",
        provider_message_id=f"case-page-{secrets.token_hex(8)}",
        report=party.report,
        party=party,
        language=party.language,
        intent=Intent.MESSAGE,
    )
    record(
        "case_page.call_back_asked",
        actor_label="victim",
        agency=party.report.agency,
        target=party.report,
        detail={"party": party.party_id},
    )
    with translation.override(party.language or "en"):
        return _page(
            request, party, saved=_("We will call you back. If it is an emergency, call 911.")
        )


def leave(request: HttpRequest) -> HttpResponse:
    party = (
        Party.objects.filter(pk=int(request.session.get(SESSION_PARTY) or 0))
        .select_related("report__agency")
        .first()
    )
    request.session.flush()
    if party is None:
        return _public(render(request, "cases/portal_gone.html", {"language": "en"}))
    return redirect("case-find", agency=party.report.agency.slug)


urlpatterns = [
    path("case/<slug:agency>/", find, name="case-find"),
    path("case/<slug:agency>/code", enter_code, name="case-code"),
    path("case/s/<str:token>", open_link, name="case-link"),
    path("case/mine", mine, name="case-mine"),
    path("case/mine/choices", save_choices, name="case-choices"),
    path("case/mine/stop", stop, name="case-stop"),
    path("case/mine/call-back", call_back, name="case-call-back"),
    path("case/leave", leave, name="case-leave"),
]
