"""victim-notify delivery-report --agency SLUG [--days 30] [--json]"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.messages.rates import rates


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = "Delivery, open and click rates for an agency's notices, as the dashboard shows them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--agency", required=True)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        figures = rates(agency, timezone.now() - dt.timedelta(days=options["days"]))
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2))
            return
        texts, emails = figures["texts"], figures["emails"]
        opens, clicks = emails["opens"], figures["details_link_clicks"]
        lines = [
            f"{agency.name}, last {options['days']} days",
            f"texts:  {texts['accepted_by_provider']} accepted, {texts['delivered']} delivered "
            f"({_pct(texts['delivery_rate'])}), {texts['failed_permanent']} failed for good, "
            f"{texts['waiting']} waiting",
            # A mail server takes a message or bounces it later; it never confirms delivery.
            f"emails: {emails['accepted_by_provider']} accepted by mail servers, "
            f"{emails['failed_permanent']} bounced ({_pct(emails['failure_rate'])})",
            f"opens:  {_pct(opens['human_rate'])} by people, "
            f"{_pct(opens['machine_only_rate'])} by privacy proxies or scanners only",
            f"clicks: {_pct(clicks['human_rate'])} of messages with a details link, "
            f"{_pct(clicks['machine_only_rate'])} by previews or scanners only",
            f"replies: {figures['replies']['received']} ({figures['replies']['urgent']} urgent, "
            f"{figures['replies']['urgent_not_handled']} not yet handled); "
            f"opt-outs: {figures['opt_outs']['recorded']}",
        ]
        self.stdout.write("\n".join(lines))
