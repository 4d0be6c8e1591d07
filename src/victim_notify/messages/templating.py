"""Agency-editable message templates: Jinja in a sandbox, with only plain strings in reach.

A template can use the placeholders listed in PLACEHOLDERS and nothing else; an unknown one is
rejected when the template is saved, never discovered at send time. The sandbox blocks
attribute tricks, and the context holds no objects, so a template cannot reach settings, the
database or another agency's data.
"""

from __future__ import annotations

import itertools
import traceback
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from victim_notify.cases.models import EventKind

if TYPE_CHECKING:
    from victim_notify.messages.models import MessageTemplate

PLACEHOLDERS: dict[str, str] = {
    "agency_name": "The agency's full name",
    "agency_short_name": "The agency's short name (opens every text)",
    "recipient_name": "First name of the person written to (may be empty)",
    "is_guardian": "True when writing to a parent or guardian about a minor",
    "is_update": "True when this corrects facts sent earlier",
    "report_number": "1. Report number",
    "offense_code": "2. Crime code",
    "offense_title": "2. Crime code's name, in the recipient's language",
    "officer_name": "3. Reporting officer's name",
    "officer_badge": "3. Reporting officer's badge number",
    "reported_at": "4. Report date and time, in the agency's time zone",
    "explanation": "5. What the crime code means",
    "explanation_short": "5. What the crime code means, short form for texts",
    "next_steps": "6. What happens next",
    "next_steps_short": "6. What happens next, short form for texts",
    "substation_name": "7. Substation name",
    "substation_phone": "7. Substation phone",
    "section_name": "8. Investigative section",
    "section_phone": "8. Investigative section phone",
    "section_hours": "8. Investigative section hours",
    "details_url": "Link to the details page on the agency's site",
}

# The eight facts every message must carry, in every channel and language.
REQUIRED_FACTS = {
    "report_number": "report number",
    "offense_code": "crime code",
    "officer_name": "reporting officer",
    "reported_at": "report date and time",
    "substation_phone": "substation phone",
    "section_phone": "investigative section phone",
}
EXPLANATION = ("explanation", "explanation_short")
NEXT_STEPS = ("next_steps", "next_steps_short")

# Answers to what a person sent (confirmations, help, the automatic answer) know less: the
# report the person's last message was about, if any.
ANSWER_PLACEHOLDERS: dict[str, str] = {
    "agency_name": "The agency's full name",
    "agency_short_name": "The agency's short name",
    "agency_phone": "The agency's non-emergency line",
    "report_number": "The report the person was last written to about (may be empty)",
    "substation_name": "That report's substation (may be empty)",
    "substation_phone": "That report's substation phone (may be empty)",
    "section_name": "That report's investigative section (may be empty)",
    "section_phone": "That report's investigative section phone (may be empty)",
}
CASE_KIND_NAMES = {*EventKind.values, "still_open"}
# Texts to a caller about their call for service (CAD).
CALL_PLACEHOLDERS: dict[str, str] = {
    "agency_name": "The agency's full name",
    "agency_short_name": "The agency's short name",
    "agency_phone": "The agency's non-emergency line",
    "call_number": "The CAD incident number the caller was given",
    "received_time": "When the call came in (hours:minutes, local time)",
    "wait_minutes": "The agency's minutes for the call's priority",
    "report_number": "The report taken, if any (may be empty)",
}
# Messages that must point to 911: someone who writes to us, or waits for officers, may be in
# danger now.
MUST_NAME_911 = {"help", "auto_reply", "urgent_answer", "call_received", "call_closed"}


# What happens to a case after the report.
CASE_PLACEHOLDERS: dict[str, str] = {
    "agency_name": "The agency's full name",
    "agency_short_name": "The agency's short name",
    "recipient_name": "The person's first name (or the business's name)",
    "is_guardian": "True when writing to a minor victim's parent or guardian",
    "report_number": "The report number",
    "offense_title": "What the crime code means, in the person's language",
    "section_name": "The investigative section",
    "section_phone": "The investigative section's phone",
    "substation_name": "The substation",
    "substation_phone": "The substation's phone",
    "event_time": "When it happened (date, local time)",
    "detective_name": "The detective assigned (detective assigned)",
    "detective_phone": "The detective's phone, or the section's (detective assigned)",
    "appearance_time": "The court date and time (initial appearance)",
    "court": "The court (initial appearance; may be empty)",
}


def placeholders_for(kind: str) -> dict[str, str]:
    if kind == "report_filed":
        return PLACEHOLDERS
    if kind in CASE_KIND_NAMES:
        return CASE_PLACEHOLDERS
    if kind in {"call_received", "call_closed"}:
        return CALL_PLACEHOLDERS
    return ANSWER_PLACEHOLDERS


# What a message template may do to a value. Nothing here can make a string much longer than
# the template itself, so a template cannot exhaust the worker.
ALLOWED_FILTERS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "trim",
        "default",
        "d",
        "e",
        "escape",
        "replace",
        "truncate",
        "striptags",
        "length",
        "first",
        "last",
    }
)


# What one filter may make of a value: `replace('', 'xxxxxxxx')` multiplies a string's length,
# and nested it would grow exponentially.
MAX_VALUE_LENGTH = 10_000

# Message templates are placeholders, filters and if/else. What else Jinja's syntax offers is
# refused when a template is parsed: a loop, even over a short string, nests into billions of
# iterations; {% set x = x ~ x %} doubles a string per line; a method call such as
# report_number.ljust(10**8) or '{:>99999999}'.format(...) makes one huge string; and
# include/import/macros have no use in a message.
_REFUSED: dict[type[nodes.Node], str] = {
    nodes.For: "loops ({% for %})",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "macros",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %} blocks",
    nodes.With: "{% with %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.Call: "calling functions or methods",
}


def _refuse_beyond_messages(tree: nodes.Template) -> None:
    """Raises TemplateSyntaxError, with the line, for the first construct a message template
    may not use (see _REFUSED). Attribute tricks are named before anything else."""
    for access in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name: object = ""
        if isinstance(access, nodes.Getattr):
            name = access.attr
        elif isinstance(access, nodes.Getitem):
            name = getattr(access.arg, "value", "")
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateSyntaxError(f"access to attribute {name!r} is unsafe", access.lineno)
    for placeholder in tree.find_all(nodes.Name):
        if placeholder.name == "self":
            raise TemplateSyntaxError("unknown placeholder {{ self }}", placeholder.lineno)
    for refused in tree.find_all(tuple(_REFUSED)):
        what = _REFUSED[type(refused)]
        raise TemplateSyntaxError(f"{what} cannot be used in message templates", refused.lineno)


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox without arithmetic, which a message never needs and which `9**9**9` or
    `report_number * 10**8` would turn into a way to stop the worker."""

    intercepted_binops = frozenset({"*", "**", "//", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the {operator} operator is not available in message templates")


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    # No trim_blocks: what staff type, line breaks included, is what the victim reads.
    env = _MessageSandbox(autoescape=autoescape, undefined=StrictUndefined)
    # Jinja's own globals (range, lipsum, dict, cycler, joiner, namespace) would be names
    # beyond PLACEHOLDERS that the check at save cannot see, e.g. range(10**9) in a loop.
    env.globals.clear()
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.filters["replace"] = _bounded_replace(env.filters["replace"])
    return env


def _bounded_replace(replace: Any) -> Any:
    @pass_eval_context
    def bounded(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        result = replace(eval_ctx, s, old, new, count)
        if len(result) > MAX_VALUE_LENGTH:
            raise SecurityError(f"replace made a text longer than {MAX_VALUE_LENGTH} characters")
        return result

    return bounded


TEXT_ENV = _environment(autoescape=False)
HTML_ENV = _environment(autoescape=True)


def _compile(env: ImmutableSandboxedEnvironment, source: str) -> Template:
    # Checked here too, so a template saved before a construct was refused cannot run it.
    tree = env.parse(source)
    _refuse_beyond_messages(tree)
    return env.from_string(tree)


@lru_cache(maxsize=512)
def compile_text(source: str) -> Template:
    return _compile(TEXT_ENV, source)


@lru_cache(maxsize=512)
def compile_html(source: str) -> Template:
    return _compile(HTML_ENV, source)


def placeholders_used(source: str, *, html: bool = False) -> set[str]:
    env = HTML_ENV if html else TEXT_ENV
    tree = env.parse(source)
    used = set(meta.find_undeclared_variables(tree))
    if any(node.name == "self" for node in tree.find_all(nodes.Name)):
        used.add("self")  # Jinja's reference to the template itself: not a placeholder
    return used


def check_source(
    source: str, *, html: bool = False, require_facts: bool = True, kind: str = "report_filed"
) -> list[str]:
    """Problems with one template text, as sentences for the editor. Empty when it is fine."""
    try:
        used = placeholders_used(source, html=html)
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"]
    allowed = placeholders_for(kind)
    problems = [f"unknown placeholder {{{{ {name} }}}}" for name in sorted(used - set(allowed))]
    if not problems:
        try:
            _refuse_beyond_messages((HTML_ENV if html else TEXT_ENV).parse(source))
        except TemplateSyntaxError as exc:
            problems.append(f"line {exc.lineno}: {exc.message}")
    if not problems:
        problems += _render_problems(source, html, allowed)
    if require_facts:
        missing = [label for name, label in REQUIRED_FACTS.items() if name not in used]
        if not used & set(EXPLANATION):
            missing.append("what the crime code means")
        if not used & set(NEXT_STEPS):
            missing.append("what happens next")
        if missing:
            problems.append("must include the " + ", ".join(missing))
    return problems


def _render_problems(source: str, html: bool, allowed: dict[str, str]) -> list[str]:
    """Render once with sample values, every way the flags can go, so that what fails only when
    rendered (the sandbox refusing `''.__class__`, a filter given the wrong type) is refused
    here, not when intake renders a victim's message."""
    template = compile_html(source) if html else compile_text(source)
    sample = {name: name.replace("_", " ") for name in allowed}
    for is_guardian, is_update in itertools.product((False, True), repeat=2):
        try:
            template.render(sample, is_guardian=is_guardian, is_update=is_update)
        except Exception as exc:  # whatever it is, the editor must fix it
            lines = [
                frame.lineno
                for frame in traceback.extract_tb(exc.__traceback__)
                if frame.filename == "<template>"
            ]
            where = f"line {lines[-1]}: " if lines else ""
            return [f"{where}{exc}"]
    return []


def validate_template(template: MessageTemplate) -> None:
    if template.kind == "report_filed":
        _validate_report_template(template)
    else:
        _validate_answer_template(template)


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _validate_report_template(template: MessageTemplate) -> None:
    errors: dict[str, list[str]] = {}
    fields: list[tuple[str, str, bool, bool]] = [("text", template.text, False, True)]
    if template.channel == "sms":
        if template.compact_text:
            fields.append(("compact_text", template.compact_text, False, True))
            if "details_url" not in placeholders_used_safe(template.compact_text):
                errors.setdefault("compact_text", []).append("must include {{ details_url }}")
    else:
        fields.append(("subject", template.subject, False, False))
        fields.append(("html", template.html, True, True))
        if "report_number" not in placeholders_used_safe(template.subject):
            errors.setdefault("subject", []).append("must include {{ report_number }}")
    for name, source, html, require in fields:
        problems = check_source(source, html=html, require_facts=require)
        if problems:
            errors.setdefault(name, []).extend(problems)
    _raise_if(errors)


def _validate_answer_template(template: MessageTemplate) -> None:
    errors: dict[str, list[str]] = {}
    fields: list[tuple[str, str, bool]] = [("text", template.text, False)]
    if template.channel == "email":
        fields.append(("subject", template.subject, False))
        if template.html:
            fields.append(("html", template.html, True))
    for name, source, html in fields:
        if not source.strip():
            errors.setdefault(name, []).append("must not be empty")
            continue
        problems = check_source(source, html=html, require_facts=False, kind=template.kind)
        if problems:
            errors.setdefault(name, []).extend(problems)
    if template.kind in MUST_NAME_911 and "911" not in template.text:
        errors.setdefault("text", []).append("must tell people to call 911 in an emergency")
    _raise_if(errors)


def placeholders_used_safe(source: str) -> set[str]:
    try:
        return placeholders_used(source)
    except TemplateSyntaxError:
        # The syntax error is reported on its own; "must include" on top would be wrong.
        return set(PLACEHOLDERS)
