"""AES-GCM for secret values at rest.

A record is ``b"dps1" | key id (8) | nonce (12) | ciphertext+tag``. The plaintext is
``length (4) | UTF-8 text | zero padding`` to a multiple of 16 bytes, so the size of a
stored value gives away little (Digdag ``AESGCMSecretCrypto``). Unlike Digdag the secret's
name and the key id are the associated data: a record copied under another name, or read
with another key, fails to decrypt instead of silently becoming another secret.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from digpy.errors import DigpyError

MAGIC = b"dps1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
KEY_ID_BYTES = 8
MAX_VALUE_BYTES = 16 * 1024  # as Digdag: secrets are credentials, not files
_PAD = 16


class SecretError(DigpyError):
    """A secret cannot be stored or read (bad key file, tampered record, too large)."""


class SecretCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise SecretError("A secret encryption key must be 16, 24 or 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"digpy-secret-key-id" + key).digest()[:KEY_ID_BYTES]

    def encrypt(self, name: str, value: str) -> bytes:
        data = value.encode("utf-8")
        if len(data) > MAX_VALUE_BYTES:
            raise SecretError(f"Secret '{name}' is too large (at most {MAX_VALUE_BYTES} bytes)")
        body = len(data).to_bytes(4, "big") + data
        body += b"\0" * (-len(body) % _PAD)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, body, self._aad(name))
        return MAGIC + self.key_id + nonce + sealed

    def decrypt(self, name: str, record: bytes) -> str:
        head = len(MAGIC) + KEY_ID_BYTES
        if not record.startswith(MAGIC) or len(record) < head + NONCE_BYTES:
            raise SecretError(f"Secret '{name}' is not a digpy secret record")
        if record[len(MAGIC) : head] != self.key_id:
            raise SecretError(f"Secret '{name}' was encrypted with another key")
        nonce, sealed = record[head : head + NONCE_BYTES], record[head + NONCE_BYTES :]
        try:
            body = self._aead.decrypt(nonce, sealed, self._aad(name))
        except InvalidTag:
            raise SecretError(f"Secret '{name}' cannot be decrypted (damaged or moved)") from None
        size = int.from_bytes(body[:4], "big")
        return body[4 : 4 + size].decode("utf-8")

    def _aad(self, name: str) -> bytes:
        return b"digpy-secret\0" + self.key_id + b"\0" + name.encode("utf-8")


def load_or_create_key(path: Path) -> bytes:
    """Read the base64 key at ``path``, creating it (mode 0600) on first use."""
    try:
        return read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(KEY_BYTES)
    try:
        # O_EXCL: two processes creating the key at once must not end up with two keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key) + b"\n")
    return key


def read_key(path: Path) -> bytes:
    """Read the key at ``path``; refuse one that group or others can read."""
    check_private(path)
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except ValueError:
        raise SecretError(f"The secret key file {path} is not valid base64") from None
    if len(key) not in (16, 24, 32):
        raise SecretError(f"The secret key file {path} does not hold a 16, 24 or 32-byte key")
    return key


def check_private(path: Path) -> None:
    """Raise SecretError when ``path`` is readable or writable by group or others."""
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise SecretError(
            f"{path} is accessible by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )
