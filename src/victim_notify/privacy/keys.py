"""The keys that protect personal data at rest, and the two things done with them.

Encryption is envelope encryption. Each process makes one random 256-bit data key per key
version the first time it writes, wraps it with that version's key-encryption key (KEK, from
configuration) and caches both; every value it encrypts carries that wrapped data key, the
KEK version, a fresh nonce and the AES-256-GCM ciphertext. Reading unwraps a data key once
and caches it, so a row costs one AES-GCM operation, never a key unwrap. No key material is in
the database: losing the KEKs makes the data unreadable, which is the point.

The blind index is HMAC-SHA256 of a normalised value under a separate key, so that equality
(STOP handling, reply matching, dedup, staff search) works without decrypting anything. Its
keys are versioned too: an index is written under the current key and looked up under every
configured key, until `victim-notify rotate-keys` has re-computed them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "vne1."  # marks a value as encrypted (format 1); anything else is legacy plaintext
_WRAPPED = 12 + 32 + 16  # nonce, data key, tag


class DecryptionError(Exception):
    """A value that cannot be decrypted: an unknown key version, or tampered data."""


@dataclass(frozen=True)
class Keyring:
    """Versioned keys, the current (first) one used for writing."""

    keys: tuple[tuple[int, bytes], ...]

    @property
    def current(self) -> tuple[int, bytes]:
        return self.keys[0]

    def get(self, version: int) -> bytes:
        for number, key in self.keys:
            if number == version:
                return key
        raise DecryptionError(f"no key of version {version} is configured")


def parse_keyring(name: str, entries: list[str]) -> Keyring:
    """`version:base64-key` entries, current first; fails loudly on anything else."""
    keys: list[tuple[int, bytes]] = []
    for entry in entries:
        version, sep, encoded = entry.partition(":")
        if not sep or not version.isdigit() or int(version) < 1:
            raise ImproperlyConfigured(f"{name}: each key is VERSION:BASE64, e.g. 1:{'A' * 43}=")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ImproperlyConfigured(f"{name}: key version {version} is not base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{name}: key version {version} must be 32 bytes")
        if any(int(version) == v for v, _ in keys):
            raise ImproperlyConfigured(f"{name}: key version {version} is given twice")
        keys.append((int(version), key))
    if not keys:
        raise ImproperlyConfigured(f"{name}: at least one key is needed")
    return Keyring(tuple(keys))


def new_key_entry(version: int = 1) -> str:
    return f"{version}:{base64.b64encode(os.urandom(32)).decode()}"


@lru_cache(maxsize=1)
def encryption_keys() -> Keyring:
    return parse_keyring("VN_ENCRYPTION_KEYS", settings.ENCRYPTION_KEYS)


@lru_cache(maxsize=1)
def index_keys() -> Keyring:
    return parse_keyring("VN_BLIND_INDEX_KEYS", settings.BLIND_INDEX_KEYS)


def forget() -> None:
    """Drop cached keys (tests that change the settings, and rotate-keys)."""
    encryption_keys.cache_clear()
    index_keys.cache_clear()
    _unwrapped.cache_clear()
    _index_key_bytes.cache_clear()
    with _lock:
        _writing.clear()


# ---- encryption ------------------------------------------------------------------------------

_lock = threading.Lock()
_writing: dict[int, tuple[AESGCM, bytes]] = {}  # KEK version -> (data key cipher, wrapped key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kek_aad(version: int) -> bytes:
    return b"victim-notify data key v%d" % version


def _data_key_for_writing() -> tuple[int, AESGCM, bytes]:
    version, kek = encryption_keys().current
    found = _writing.get(version)
    if found is None:
        with _lock:
            found = _writing.get(version)
            if found is None:
                data_key = AESGCM.generate_key(bit_length=256)
                nonce = os.urandom(12)
                wrapped = nonce + AESGCM(kek).encrypt(nonce, data_key, _kek_aad(version))
                found = (AESGCM(data_key), wrapped)
                _writing[version] = found
    return version, found[0], found[1]


@lru_cache(maxsize=4096)
def _unwrapped(version: int, wrapped: bytes) -> AESGCM:
    kek = encryption_keys().get(version)
    try:
        data_key = AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], _kek_aad(version))
    except InvalidTag:
        raise DecryptionError(f"the data key does not open with key version {version}") from None
    return AESGCM(data_key)


def encrypt(plaintext: str, context: str) -> str:
    """The text, encrypted under the current key. `context` (the column) is bound in as
    associated data, so a value copied into another column does not decrypt there."""
    version, cipher, wrapped = _data_key_for_writing()
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{version}.{_b64(wrapped + nonce + sealed)}"


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def key_version(stored: str) -> int | None:
    """The KEK version of a stored value, or None for plaintext."""
    if not stored.startswith(PREFIX):
        return None
    return int(stored[len(PREFIX) :].partition(".")[0])


def decrypt(stored: str, context: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption was switched on; rotate-keys encrypts it
    version_text, _, body = stored[len(PREFIX) :].partition(".")
    try:
        version = int(version_text)
        blob = _unb64(body)
    except (ValueError, binascii.Error):
        raise DecryptionError("not a well-formed encrypted value") from None
    if len(blob) < _WRAPPED + 12 + 16:
        raise DecryptionError("not a well-formed encrypted value")
    cipher = _unwrapped(version, blob[:_WRAPPED])
    nonce = blob[_WRAPPED : _WRAPPED + 12]
    try:
        return cipher.decrypt(nonce, blob[_WRAPPED + 12 :], context.encode()).decode()
    except InvalidTag:
        raise DecryptionError(f"a value in {context} fails its integrity check") from None


# ---- blind index -----------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _index_key_bytes(version: int) -> bytes:
    return index_keys().get(version)


def _mac(version: int, purpose: str, normalised: str) -> str:
    key = _index_key_bytes(version)
    digest = hmac.new(key, f"{purpose}\0{normalised}".encode(), hashlib.sha256).hexdigest()
    return f"{version}:{digest}"


def blind_index(purpose: str, normalised: str) -> str:
    """The index of an already-normalised value under the current key: `version:hex`."""
    return _mac(index_keys().current[0], purpose, normalised)


def blind_indexes(purpose: str, normalised: str) -> list[str]:
    """The index under every configured key, for lookups while a rotation is under way."""
    return [_mac(version, purpose, normalised) for version, _ in index_keys().keys]


def index_version(stored: str) -> int | None:
    version, sep, _ = stored.partition(":")
    return int(version) if sep and version.isdigit() else None


def normalise_name(name: str) -> str:
    """Names match in any letter case and spacing, as staff search always did."""
    return " ".join(name.casefold().split())
