"""The templates every agency starts with (messages/default_templates/), in each language the
project ships. Staff edit their own copies; these files are never changed by an agency."""

from __future__ import annotations

from pathlib import Path

from victim_notify.agencies.models import Agency
from victim_notify.messages.models import MessageKind, MessageTemplate

DEFAULTS_DIR = Path(__file__).parent / "default_templates"
SHIPPED_LANGUAGES = ("en", "es")


def default_parts(kind: str, channel: str, language: str) -> dict[str, str]:
    folder = DEFAULTS_DIR / kind

    def read(part: str) -> str:
        path = folder / f"{channel}.{language}.{part}.j2"
        return path.read_text(encoding="utf-8").strip() if path.exists() else ""

    if channel == "sms":
        return {"text": read("text"), "compact_text": read("compact")}
    return {"subject": read("subject"), "text": read("text"), "html": read("html")}


def install_default_templates(agency: Agency, languages: list[str] | None = None) -> int:
    """Give the agency any default template it does not have yet. Returns how many were added."""
    added = 0
    for kind in [k for k in MessageKind.values if (DEFAULTS_DIR / k).is_dir()]:
        for channel in ("sms", "email"):
            for language in languages or SHIPPED_LANGUAGES:
                if not any((DEFAULTS_DIR / kind).glob(f"{channel}.*.text.j2")):
                    continue  # e.g. texts to a caller, who is only known by phone
                if MessageTemplate.objects.filter(
                    agency=agency, kind=kind, channel=channel, language=language
                ).exists():
                    continue
                template = MessageTemplate(
                    agency=agency,
                    kind=kind,
                    channel=channel,
                    language=language,
                    **default_parts(kind, channel, language),
                )
                template.full_clean()
                template.save()
                added += 1
    return added
