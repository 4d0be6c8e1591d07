"""The staff app's menu, shown to each person with only what their role may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from victim_notify.staff.access import can

# (url name, label, capability)
MENU = [
    ("staff:dashboard", _("Dashboard"), "dashboard"),
    ("staff:reports", _("Reports"), "view_people"),
    ("staff:replies", _("Replies"), "replies"),
    ("staff:compliance", _("Deadlines"), "act_on_messages"),
    ("staff:quarantine", _("Quarantine"), "quarantine"),
    ("staff:config", _("Configuration"), "configure"),
    ("staff:experiments", _("Experiments"), "experiments"),
    ("staff:users", _("Users"), "users"),
    ("staff:audit", _("Audit log"), "audit"),
]


def menu(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the menu for the signed-in staff member, the current item marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "staff", None) is None:
        return {}
    path = request.path
    items = []
    for name, label, capability in MENU:
        if can(user, capability):
            url = reverse(name)
            items.append({"url": url, "label": label, "current": path.startswith(url)})
    return {"staff_menu": items, "staff_member": user.staff}
