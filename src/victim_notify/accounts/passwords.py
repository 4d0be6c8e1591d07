"""Passwords nobody should be allowed to choose here, beyond Django's list of 20,000 common
ones: the product's and agency's own words, which an attacker tries first."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BANNED_WORDS = {
    "password",
    "passw0rd",
    "police",
    "sheriff",
    "officer",
    "victim",
    "notify",
    "dispatch",
    "welcome",
    "letmein",
    "changeme",
    "qwerty",
    "123456",
    "badge",
    "precinct",
    "detective",
}


def _squash(text: str) -> str:
    """Lower case, common digit-for-letter swaps undone, separators dropped."""
    table = str.maketrans(
        {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
    )
    return re.sub(r"[^a-z]", "", text.lower().translate(table))


class BannedPasswordValidator:
    """Refuses a password built around a banned word or the agency's own name, once digits
    and symbols are taken away (so "Police2026!" and "P0lice!!2026" both fail)."""

    def validate(self, password: str, user: Any = None) -> None:
        words = set(BANNED_WORDS)
        staff = getattr(user, "staff", None) if user is not None else None
        if staff is not None:
            agency = staff.agency
            words |= {
                w
                for w in re.split(r"\W+", f"{agency.slug} {agency.short_name}".lower())
                if len(w) >= 4
            }
        squashed = _squash(password)
        letters_only = re.sub(r"[^a-z]", "", password.lower())
        for word in words:
            target = _squash(word) or word
            if target and (target in squashed or word in letters_only):
                # What is left after taking the word out is too little to count as a password.
                if len(squashed.replace(target, "")) < 8:
                    raise ValidationError(
                        _("This password is built around a word attackers try first (%(word)s).")
                        % {"word": word},
                        code="password_banned",
                    )

    def get_help_text(self) -> str:
        return _("Your password can't be built around words like 'police' or your agency's name.")
