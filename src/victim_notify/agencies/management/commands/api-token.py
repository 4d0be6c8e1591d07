"""victim-notify api-token create|revoke|list --agency SLUG"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from victim_notify.accounts.audit import record as audit
from victim_notify.agencies.models import Agency, ApiToken


class Command(BaseCommand):
    help = "Issue or revoke the API tokens an agency's RMS uses to push reports."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("--agency", required=True)
        parser.add_argument("--name", default="rms", help="What the token is for (create).")
        parser.add_argument("--key-id", help="The token's id (revoke).")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        if options["action"] == "create":
            token, plain = ApiToken.issue(agency, options["name"])
            audit("api_token.issued", actor_label="command", agency=agency, target=token)
            self.stderr.write("Keep this token now; it cannot be shown again.")
            self.stdout.write(plain)
        elif options["action"] == "revoke":
            count = ApiToken.objects.filter(
                agency=agency, key_id=options["key_id"], revoked_at=None
            ).update(revoked_at=timezone.now())
            if not count:
                raise CommandError("no such active token")
            audit(
                "api_token.revoked",
                actor_label="command",
                agency=agency,
                detail={"key_id": options["key_id"]},
            )
            self.stdout.write("revoked")
        else:
            for token in ApiToken.objects.filter(agency=agency).order_by("created_at"):
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                self.stdout.write(f"{token.key_id}  {token.name}  {state}")
