"""Encryption of tokens at rest with Fernet, rotating keys with MultiFernet.

Keys come from ``ABXERO_SECRET_KEY`` (comma-separated; the first encrypts, all decrypt) or, on
the embedded default, from a key file created with mode 0600 in the data directory. A key that
is not a Fernet key is treated as a passphrase and stretched into one with HKDF.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE_MODE = 0o600


class DecryptionError(RuntimeError):
    """Ciphertext made with a key we no longer have (or altered)."""


def _as_fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    stretched = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"abxero-token-key", info=b"fernet"
    ).derive(raw)
    return base64.urlsafe_b64encode(stretched)


def load_or_create_key_file(path: Path) -> str:
    """The key in ``path``; a new one is generated (mode 0600) when the file is missing."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


class TokenCipher:
    """Encrypts JSON-able token sets; the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(_as_fernet_key(key)) for key in keys])

    @classmethod
    def from_secret(cls, secret: str | None, key_file: Path) -> TokenCipher:
        if secret:
            return cls([part for part in secret.split(",") if part.strip()])
        return cls([load_or_create_key_file(key_file)])

    def encrypt(self, value: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(value, sort_keys=True).encode())

    def decrypt(self, ciphertext: bytes) -> dict[str, Any]:
        try:
            plain = self._fernet.decrypt(ciphertext)
        except InvalidToken as problem:
            raise DecryptionError(
                "token set cannot be decrypted with the configured keys"
            ) from problem
        decoded: dict[str, Any] = json.loads(plain)
        return decoded

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the first (newest) key."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken as problem:
            raise DecryptionError(
                "token set cannot be decrypted with the configured keys"
            ) from problem
