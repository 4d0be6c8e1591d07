"""What SMPP 3.4 carries inside its PDUs: status codes, GSM 03.38 and UCS-2 text, UDH
concatenation, delivery receipt text and addresses. Pure functions, no sockets; the link
itself is in smpp.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

from victim_notify.providers.base import PermanentFailure

# --- Status codes ---------------------------------------------------------------------------

ESME_ROK = 0x00
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RMSGQFUL = 0x14
ESME_RINVCMDID = 0x03
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RINVOPTPARSTREAM = 0xC0
ESME_RUNKNOWNERR = 0xFF

# Worth trying again later; every other refusal of a submit_sm is permanent for that message.
TRANSIENT_STATUSES = {
    0x04,  # ESME_RINVBNDSTS: the session was not bound (yet): a new one will be
    ESME_RSYSERR,
    ESME_RMSGQFUL,
    ESME_RSUBMITFAIL,
    ESME_RTHROTTLED,
    ESME_RX_T_APPN,
    0xFE,  # ESME_RDELIVERYFAILURE
    ESME_RUNKNOWNERR,
}


def status_code(status: int) -> str:
    return f"0x{status:02X}"


# --- Text: GSM 03.38 and UCS-2 --------------------------------------------------------------

# GSM 03.38 default alphabet in code order (0x1B is the escape to the extension table). SMPP
# carries it unpacked, one septet an octet, under data_coding 0. smpplib's own table is wrong
# at 0x5F (§, not a backtick) and in its extension rows, so it is not used.
GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION_TABLE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_GSM_ESCAPE = 0x1B
_GSM_ENCODE: dict[str, bytes] = {
    ch: bytes([code]) for code, ch in enumerate(GSM_BASIC_TABLE) if code != _GSM_ESCAPE
} | {ch: bytes([_GSM_ESCAPE, code]) for code, ch in GSM_EXTENSION_TABLE.items()}

DC_DEFAULT = 0x00  # the SMSC's default alphabet: GSM 03.38 for every SMSC we know
DC_IA5 = 0x01
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

# Octets of user data: a single message, or one part of a long one after its 6-octet UDH.
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 140, 134  # 70 and 67 UTF-16 code units
MAX_PARTS = 255


@dataclass(frozen=True)
class EncodedText:
    data_coding: int
    parts: tuple[bytes, ...]  # each part's short_message, with its UDH when there are several
    reference: int | None  # the concatenation reference, for a text of several parts


def encode_text(text: str, reference: int) -> EncodedText:
    """GSM 03.38 when every character has a code there, else UCS-2; split into parts that
    never separate an escape from its character or the halves of a surrogate pair."""
    if all(ch in _GSM_ENCODE for ch in text):
        units = [_GSM_ENCODE[ch] for ch in text]
        data_coding, single, part = DC_DEFAULT, GSM_SINGLE, GSM_PART
    else:
        units = [ch.encode("utf-16-be") for ch in text]
        data_coding, single, part = DC_UCS2, UCS2_SINGLE, UCS2_PART
    whole = b"".join(units)
    if len(whole) <= single:
        return EncodedText(data_coding, (whole,), None)
    chunks: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > part:
            chunks.append(bytes(current))
            current = bytearray()
        current += unit
    chunks.append(bytes(current))
    if len(chunks) > MAX_PARTS:
        raise PermanentFailure(f"text too long for SMS ({len(chunks)} parts)", code="too_long")
    reference %= 256
    total = len(chunks)
    parts = tuple(
        bytes([5, 0x00, 3, reference, total, number]) + chunk
        for number, chunk in enumerate(chunks, start=1)
    )
    return EncodedText(data_coding, parts, reference)


def gsm_decode(data: bytes) -> str:
    out: list[str] = []
    escaped = False
    for octet in data:
        code = octet & 0x7F
        if escaped:
            # An unknown extension code shows the basic table's character (GSM 03.38 6.2.1.1).
            out.append(GSM_EXTENSION_TABLE.get(code, GSM_BASIC_TABLE[code]))
            escaped = False
        elif code == _GSM_ESCAPE:
            escaped = True
        else:
            out.append(GSM_BASIC_TABLE[code])
    if escaped:
        out.append(" ")
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """User data as text, by SMPP 3.4's data_coding (5.2.19) and the GSM 03.38 coding groups."""
    dc = data_coding
    if dc == DC_DEFAULT:
        return gsm_decode(data)
    if dc == DC_IA5:
        return data.decode("ascii", errors="replace")
    if dc == DC_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if dc in (DC_LATIN1, 0x02, 0x04):  # Latin-1, and 8-bit data shown as best we can
        return data.decode("latin-1")
    if dc & 0xF0 == 0xF0:  # message class group: bit 2 chooses 8-bit over GSM
        return data.decode("latin-1") if dc & 0x04 else gsm_decode(data)
    if dc & 0xC0 in (0x00, 0x40):  # general data coding groups: bits 3-2 are the alphabet
        alphabet = (dc >> 2) & 0x03
        if alphabet == 2:
            return data.decode("utf-16-be", errors="replace")
        return data.decode("latin-1") if alphabet == 1 else gsm_decode(data)
    return data.decode("latin-1")


@dataclass(frozen=True)
class Concatenation:
    reference: int
    total: int
    number: int


def split_udh(short_message: bytes) -> tuple[Concatenation | None, bytes]:
    """The concatenation element of a user data header (8- or 16-bit reference), and the
    user data after the header."""
    if not short_message:
        return None, b""
    length = short_message[0]
    header, body = short_message[1 : 1 + length], short_message[1 + length :]
    concat = None
    pos = 0
    while pos + 2 <= len(header):
        iei, size = header[pos], header[pos + 1]
        data = header[pos + 2 : pos + 2 + size]
        if iei == 0x00 and size == 3 and len(data) == 3:
            concat = Concatenation(data[0], data[1], data[2])
        elif iei == 0x08 and size == 4 and len(data) == 4:
            concat = Concatenation((data[0] << 8) | data[1], data[2], data[3])
        pos += 2 + size
    return concat, body


# --- Delivery receipts ----------------------------------------------------------------------

# SMPP 3.4 5.3.2.35 message_state, as the stat words of the receipt text.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
_RECEIPT_FIELD = re.compile(r"\b(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)
_RECEIPT_TEXT = re.compile(r"\btext:", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    stat: str
    err: str
    detail: str  # the receipt's counters and dates; never its text, which quotes the message


def parse_receipt(text: str, tlvs: dict[str, Any]) -> Receipt | None:
    """The de-facto receipt text of SMPP 3.4 Appendix B ("id:… sub:… dlvrd:… submit date:…
    done date:… stat:… err:… text:…") and the receipted_message_id, message_state and
    network_error_code TLVs; the TLVs win for the id, the text for the status."""
    head = _RECEIPT_TEXT.split(text, maxsplit=1)[0]  # "text:" quotes the message: not parsed
    fields = {name.lower(): value for name, value in _RECEIPT_FIELD.findall(head)}
    message_id = tlvs.get("receipted_message_id") or fields.get("id", "")
    stat = fields.get("stat", "").upper() or MESSAGE_STATES.get(tlvs.get("message_state") or 0, "")
    err = fields.get("err", "")
    if not err and tlvs.get("network_error_code"):
        raw = tlvs["network_error_code"]
        err = f"{int.from_bytes(raw[1:3], 'big'):03d}" if len(raw) == 3 else raw.hex()
    if not message_id or not stat:
        return None
    detail = " ".join(
        f"{name}:{fields[name]}"
        for name in ("sub", "dlvrd", "submit date", "done date")
        if name in fields
    )
    return Receipt(message_id, stat, err, detail)


# --- Addresses ------------------------------------------------------------------------------


def smpp_address(
    value: str, ton: int | None = None, npi: int | None = None
) -> tuple[int, int, str]:
    """(ton, npi, address) for an E.164 number, a national number or an alphanumeric sender."""
    if value.startswith("+") and value[1:].isdigit():
        found = (1, 1, value[1:])
    elif value.isdigit():
        found = (0, 1, value)
    else:
        found = (5, 0, value[:11])  # alphanumeric: at most 11 characters reach a phone
    return (found[0] if ton is None else ton, found[1] if npi is None else npi, found[2])


def e164_from_smpp(address: str, ton: int) -> str:
    """An SMSC's address as +E.164 where it reads as one (many send international numbers
    with TON 0), else as it came."""
    digits = address.lstrip("+")
    if digits.isdigit() and (
        ton == 1 or address.startswith("+") or (ton == 0 and len(digits) > 10)
    ):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None)):
                return "+" + digits
        except phonenumbers.NumberParseException:
            pass
        if ton == 1:
            return "+" + digits
    return address
