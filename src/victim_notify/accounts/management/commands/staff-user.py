"""victim-notify staff-user add USERNAME --agency SLUG --role ROLE | list --agency SLUG"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from victim_notify.accounts.audit import record
from victim_notify.accounts.models import Role, StaffMember
from victim_notify.agencies.models import Agency


class Command(BaseCommand):
    help = "Add an agency's first administrator (or anyone) from the command line, or list staff."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create a staff member with a one-time password.")
        add.add_argument("username")
        add.add_argument("--agency", required=True)
        add.add_argument("--role", required=True, choices=[r.value for r in Role])
        listing = sub.add_parser("list", help="The agency's staff and their roles.")
        listing.add_argument("--agency", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        if options["action"] == "list":
            for member in agency.staff.select_related("user").order_by("user__username"):
                state = "active" if member.user.is_active else f"off ({member.disabled_reason})"
                self.stdout.write(f"{member.user.username}\t{member.role}\t{state}")
            return
        users = get_user_model().objects
        if users.filter(username=options["username"]).exists():
            raise CommandError(f"the user name {options['username']!r} is taken")
        password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        with transaction.atomic():
            user = users.create_user(options["username"], password=password)
            StaffMember.objects.create(user=user, agency=agency, role=options["role"])
            record(
                "user.created",
                actor_label="command",
                agency=agency,
                target=user,
                detail={"role": options["role"]},
            )
        self.stdout.write(
            f"{user.username} ({options['role']}, {agency.slug}) created. One-time password: "
            f"{password}\nThey sign in at /staff/, set up an authenticator app, and should "
            "change the password (Password, at the top of every page)."
        )
