"""Reading settings from the environment.

Every helper fails loudly on a value it cannot understand, so a typo in a deployment stops
the process at start-up instead of silently falling back to a default. A secret may be given
as ``NAME_FILE`` (a path to a file holding it), which is how container and systemd
credentials are usually passed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_optional(name: str) -> str | None:
    value = _raw(name)
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(sorted(choices))}")
    return value


@dataclass(frozen=True)
class Limit:
    """At most `count` in each window of `seconds`."""

    count: int
    seconds: int


_UNITS = {"s": 1, "m": 60, "h": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")


def env_rate(name: str, default: str) -> Limit | None:
    """A rate limit: `30/m`, `100/h`, `20/15m`, `5/s`; `off` for none. Windows of 1 s to 1 h."""
    value = env_str(name, default)
    if value.strip().lower() in {"off", "0", "none"}:
        return None
    match = _RATE.match(value)
    if not match:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate limit (write e.g. 30/m, 100/h, 20/15m, or off)"
        )
    count, seconds = int(match[1]), int(match[2] or 1) * _UNITS[match[3]]
    if count < 1 or not 1 <= seconds <= 3600:
        raise ImproperlyConfigured(f"{name}={value!r}: at least 1, in a window of 1 s to 1 h")
    return Limit(count, seconds)
