"""victim-notify opt-out add|remove|check --agency SLUG (--phone N | --email A)"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import OptOut, OptOutSource
from victim_notify.contacts.optouts import BadContact, contact_for, opt_in, opt_out


class Command(BaseCommand):
    help = "Record, lift or check an opt-out for a phone number or email address."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["add", "remove", "check"])
        parser.add_argument("--agency", required=True)
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone")
        who.add_argument("--email")
        parser.add_argument(
            "--note", default="", help="Why (kept with the opt-out; no personal data)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        try:
            contact = contact_for(agency, phone=options["phone"], email=options["email"])
        except BadContact as exc:
            raise CommandError(str(exc)) from exc
        if options["action"] == "add":
            added = opt_out(
                agency,
                contact,
                source=OptOutSource.COMMAND,
                actor_label="command",
                note=options["note"],
            )
            self.stdout.write("opted out" if added else "already opted out")
        elif options["action"] == "remove":
            self.stdout.write(
                "opt-out lifted"
                if opt_in(agency, contact, actor_label="command")
                else "was not opted out"
            )
        else:
            active = OptOut.objects.filter(agency=agency, contact=contact, revoked_at=None).exists()
            self.stdout.write("opted out" if active else "not opted out")
