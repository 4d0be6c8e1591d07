"""victim-notify rotate-keys [--dry-run] [--batch-size N]

Run after putting a new key first in VN_ENCRYPTION_KEYS (or VN_BLIND_INDEX_KEYS) on every
process: it re-encrypts everything still under an older key, encrypts anything found in
plaintext, and re-computes blind indexes under the current index key. The web app and the
worker keep running; old keys go on decrypting until this has finished and reports nothing
left, after which the old key can be removed from the list.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from victim_notify.accounts.audit import record
from victim_notify.privacy import keys
from victim_notify.privacy.rotation import rotate


class Command(BaseCommand):
    help = "Re-encrypt personal data and re-compute blind indexes under the current keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        keys.forget()
        dry_run = options["dry_run"]
        summary = rotate(batch_size=max(1, options["batch_size"]), dry_run=dry_run)
        verb = "would rewrite" if dry_run else "rewrote"
        for m in summary.models:
            self.stdout.write(
                f"{m.label}: {m.rows_seen} rows, {verb} {m.rows_rewritten} "
                f"(encrypted {m.values_encrypted} plaintext values, re-encrypted "
                f"{m.values_reencrypted}, re-indexed {m.indexes_recomputed}"
                + (
                    f", {m.rows_changed_meanwhile} changed meanwhile"
                    if m.rows_changed_meanwhile
                    else ""
                )
                + ")"
            )
        current = keys.encryption_keys().current[0]
        index = keys.index_keys().current[0]
        self.stdout.write(
            f"rotate-keys: {verb} {summary.rows_rewritten} rows; "
            f"encryption key {current}, index key {index} current"
        )
        if not dry_run:
            record(
                "privacy.rotate_keys",
                actor_label="command",
                detail={
                    "rows_rewritten": summary.rows_rewritten,
                    "encryption_key": current,
                    "index_key": index,
                },
            )
