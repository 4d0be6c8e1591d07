"""The new words of an email reply: what the person wrote above the quoted original.

Mail clients quote what they answer in different ways: "> " before each line, an attribution
("On Tue, Dec 1, 2026 at 10:15 AM Testville Police <…> wrote:", "El … escribió:"), Outlook's
"-----Original Message-----" or a line of underscores and a From/Sent/To block, Gmail's
`gmail_quote` in HTML. Our own message, quoted, says "reply STOP", so reading a reply with its
quote would opt out everyone who writes "thanks".
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

_ATTRIBUTION = re.compile(
    r"^(?:on|el)\b.{0,300}\b(?:wrote|escribi[oó])\s*:$", re.IGNORECASE | re.DOTALL
)
_SEPARATOR = re.compile(
    r"^(?:-{2,}\s*(?:original message|mensaje original|forwarded message|mensaje reenviado)"
    r"\s*-{2,}|_{10,}|-- ?)$",
    re.IGNORECASE,
)
_HEADER_BLOCK_START = re.compile(r"^\*?(?:from|de)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\*?(?:sent|date|to|subject|enviado|fecha|para|asunto)\s*:", re.IGNORECASE
)
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from|enviado desde|get outlook for|obtener outlook para)\b.{0,80}$",
    re.IGNORECASE,
)


def _starts_quote(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if _SEPARATOR.match(line):
        return True
    if _HEADER_BLOCK_START.match(line):
        following = [x.strip() for x in lines[i + 1 : i + 4]]
        return any(_HEADER_BLOCK_NEXT.match(x) for x in following)
    if re.match(r"^(?:on|el)\b", line, re.IGNORECASE):
        # Mail clients wrap a long attribution ("On Mon, Dec 1, 2026 at 10:15 AM Testville
        # Police <notify@…> wrote:") over two or three lines. A date is always in it, and an
        # address or the quote right after it: "On Monday at 5 he wrote: …" is the person's.
        for end in range(i + 1, min(i + 4, len(lines)) + 1):
            joined = " ".join(x.strip() for x in lines[i:end])
            if _ATTRIBUTION.match(joined) and re.search(r"\d", joined):
                after = next((x.strip() for x in lines[end:] if x.strip()), "")
                return "@" in joined or after.startswith(">")
    return False


def strip_quoted(text: str) -> str:
    """The words the person wrote: without quoted lines ("> …"), without everything from an
    attribution ("On … wrote:", "El … escribió:") or an "Original Message" separator on, and
    without a signature or a "Sent from my phone" line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _starts_quote(lines, i):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _MOBILE_SIGNATURE.match(kept[-1].strip())):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


class _HtmlText(HTMLParser):
    """The visible text of an HTML reply, up to where the quoted original starts."""

    _SKIP = {"script", "style", "head", "title", "blockquote"}
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table"}
    _QUOTE_MARKERS = ("gmail_quote", "divrplyfwdmsg", "appendonsend", "yahoo_quoted", "moz-cite")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        if any(marker in marks for marker in self._QUOTE_MARKERS):
            self.done = True
        if tag in self._SKIP:
            self.skipping += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.done and not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)


def new_text(message: EmailMessage) -> str:
    """The new words of a reply: its plain text, else its HTML made text, quotes removed."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_text(content)
    return strip_quoted(content)
