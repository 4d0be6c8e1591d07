"""/staff/config/providers: which providers carry the agency's texts and emails, in which order
and at what rate, and whether each is taking messages (agency administrators only).

Routes are read by providers/health.py for every batch, so a change applies to the next send;
provider health is shared by the whole installation and only shown here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.accounts.audit import record_request
from victim_notify.logs import mask
from victim_notify.providers.health import forget_cache
from victim_notify.providers.models import ProviderEvent, ProviderHealth, ProviderRoute
from victim_notify.providers.registry import ALIASES, BUILDERS
from victim_notify.staff.access import requires
from victim_notify.staff.config_forms import CHANNEL_LABELS, record_change, values_of

ROUTE_FIELDS = ["provider", "messages_per_second"]


def installed_sms_providers() -> list[str]:
    """The text providers this installation is set up for (SMS_PROVIDERS), by their names."""
    return [ALIASES.get(name, name) for name in settings.SMS_PROVIDERS]


def provider_choices(channel: str) -> list[tuple[str, str]]:
    installed = installed_sms_providers()
    choices = []
    for name, (kind, _build) in BUILDERS.items():
        if kind != channel:
            continue
        if channel == "sms" and name not in installed:
            label = _("%(name)s (not in SMS_PROVIDERS: set it up before use)") % {"name": name}
        else:
            label = name
        choices.append((name, label))
    return choices


class RouteForm(forms.ModelForm):
    class Meta:
        model = ProviderRoute
        fields = ROUTE_FIELDS
        labels = {
            "provider": gettext_lazy("Provider"),
            "messages_per_second": gettext_lazy("Messages per second"),
        }
        help_texts = {
            "messages_per_second": gettext_lazy(
                "What the sender is allowed (10DLC, toll-free, short code); 0 means no limit."
            )
        }

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.channel = channel
        self.fields["provider"] = forms.ChoiceField(
            choices=provider_choices(channel),
            label=self.fields["provider"].label,
        )


class NewRouteForm(forms.Form):
    channel = forms.ChoiceField(choices=list(CHANNEL_LABELS.items()), label=gettext_lazy("Channel"))
    provider = forms.ChoiceField(choices=(), label=gettext_lazy("Provider"))
    messages_per_second = forms.IntegerField(
        min_value=0, initial=0, label=gettext_lazy("Messages per second")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ChoiceField)
        provider.choices = provider_choices("sms") + provider_choices("email")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        channel, provider = cleaned.get("channel"), cleaned.get("provider")
        if channel and provider and BUILDERS[provider][0] != channel:
            self.add_error("provider", _("This provider does not carry that channel."))
        return cleaned


@requires("providers")
def providers(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = NewRouteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        route = _add_route(agency, form.cleaned_data)
        record_request(
            request,
            "config.provider_route_added",
            target=route,
            detail={
                "fields": ["channel", "position", *ROUTE_FIELDS],
                "values": values_of(route, ["channel", "position", *ROUTE_FIELDS]),
            },
        )
        forget_cache()
        messages.success(request, _("Route added."))
        return redirect("staff:providers")
    routes = list(ProviderRoute.objects.filter(agency=agency))
    by_channel = [
        {
            "channel": channel,
            "label": label,
            "routes": [r for r in routes if r.channel == channel],
            "defaults": _installation_defaults(channel),
        }
        for channel, label in CHANNEL_LABELS.items()
    ]
    names = sorted(
        {r.provider for r in routes}
        | {ALIASES.get(name, name) for channel in CHANNEL_LABELS for name in _defaults(channel)}
    )
    # Health and events are the installation's, shared by every agency, and a provider's error
    # may quote a recipient: masked, as in the logs.
    health = {h.provider: h for h in ProviderHealth.objects.filter(provider__in=names)}
    for row in health.values():
        row.last_error = mask(row.last_error)
    events = list(ProviderEvent.objects.filter(provider__in=names)[:20])
    for event in events:
        event.detail = mask(event.detail)
    return render(
        request,
        "staff/providers.html",
        {
            "channels": by_channel,
            "health": [(name, health.get(name)) for name in names],
            "events": events,
            "form": form,
            "zone": agency.timezone,
        },
    )


def _defaults(channel: str) -> list[str]:
    if channel == "email":
        return ["outbox-email" if settings.EMAIL_URL.startswith("outbox:") else "smtp"]
    return installed_sms_providers()


def _installation_defaults(channel: str) -> list[str]:
    return [ALIASES.get(name, name) for name in _defaults(channel)]


@transaction.atomic
def _add_route(agency: Any, data: dict[str, Any]) -> ProviderRoute:
    last = (
        ProviderRoute.objects.select_for_update()
        .filter(agency=agency, channel=data["channel"])
        .aggregate(Max("position"))["position__max"]
    )
    return ProviderRoute.objects.create(
        agency=agency,
        channel=data["channel"],
        position=0 if last is None else last + 1,
        provider=data["provider"],
        messages_per_second=data["messages_per_second"],
    )


@requires("providers")
def route_detail(request: HttpRequest, route_id: int) -> HttpResponse:
    route = get_object_or_404(ProviderRoute, pk=route_id, agency=request.agency)  # type: ignore[attr-defined]
    action = request.POST.get("action")
    if action in ("up", "down"):
        return _move(request, route, action)
    if action == "remove":
        return _remove(request, route)
    form = RouteForm(request.POST or None, instance=route, channel=route.channel)
    if request.method == "POST" and form.is_valid():
        before = values_of(ProviderRoute.objects.get(pk=route.pk), ROUTE_FIELDS)
        form.save()
        changed = record_change(
            request,
            "provider_route",
            route,
            before,
            values_of(route, ROUTE_FIELDS),
            show_values=frozenset(ROUTE_FIELDS),
        )
        forget_cache()
        if changed:
            messages.success(request, _("Route saved."))
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect("staff:providers")
    return render(
        request,
        "staff/providers_route.html",
        {"route": route, "form": form, "channel": CHANNEL_LABELS.get(route.channel)},
    )


def _move(request: HttpRequest, route: ProviderRoute, direction: str) -> HttpResponse:
    """Swap a route with the one before or after it on the same channel."""
    old = route.position
    with transaction.atomic():
        siblings = ProviderRoute.objects.select_for_update().filter(
            agency=route.agency, channel=route.channel
        )
        if direction == "up":
            other = siblings.filter(position__lt=old).order_by("-position").first()
        else:
            other = siblings.filter(position__gt=old).order_by("position").first()
        if other is not None:
            # Positions are unique per channel, so one route waits at a free position.
            spare = (siblings.aggregate(Max("position"))["position__max"] or 0) + 1
            ProviderRoute.objects.filter(pk=route.pk).update(position=spare)
            ProviderRoute.objects.filter(pk=other.pk).update(position=old)
            ProviderRoute.objects.filter(pk=route.pk).update(position=other.position)
    if other is None:
        messages.info(request, _("Nothing was changed."))
        return redirect("staff:providers")
    record_request(
        request,
        "config.provider_route_changed",
        target=route,
        detail={
            "fields": ["position"],
            "values": {"position": {"old": old, "new": other.position}},
        },
    )
    forget_cache()
    messages.success(request, _("Order saved."))
    return redirect("staff:providers")


def _remove(request: HttpRequest, route: ProviderRoute) -> HttpResponse:
    record_request(
        request,
        "config.provider_route_removed",
        target=route,
        detail={"fields": ["channel", "position", *ROUTE_FIELDS]},
    )
    route.delete()
    forget_cache()
    messages.success(request, _("Route removed."))
    return redirect("staff:providers")


urlpatterns = [
    path("config/providers", providers, name="providers"),
    path("config/providers/<int:route_id>", route_detail, name="provider-route"),
]
