"""Local secrets for ``digpy run``: one encrypted file per user, never plaintext on disk.

Layout of the directory (``0700``)::

    key            base64 AES key, mode 0600, created on the first ``set``
    secrets.json   {"version": 1, "secrets": {name: base64 record}}, mode 0600

Writes take an advisory lock and replace ``secrets.json`` atomically, so a ``digpy secrets
--set`` running next to a workflow never leaves a half-written file.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digpy.secrets.crypto import (
    SecretCipher,
    SecretError,
    check_private,
    load_or_create_key,
    read_key,
)

KEY_FILE = "key"
SECRETS_FILE = "secrets.json"
LOCK_FILE = ".lock"
MAX_KEY_CHARS = 255
# Dotted names as Digdag uses them (td.apikey, pg.password, aws.s3.secret_access_key).
_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*")


def is_valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_CHARS and _KEY_PATTERN.fullmatch(key) is not None


def validate_key(key: str) -> str:
    if not is_valid_key(key):
        raise SecretError(
            f"Invalid secret key {key!r}: use letters, digits, '_' and '-', "
            "in dot-separated parts such as 'td.apikey'"
        )
    return key


class LocalSecretStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def default(cls) -> LocalSecretStore:
        """``$DIGPY_CONFIG_HOME/secrets``, else ``$XDG_CONFIG_HOME/digpy/secrets``, else
        ``~/.config/digpy/secrets``."""
        if home := os.environ.get("DIGPY_CONFIG_HOME"):
            return cls(Path(home) / "secrets")
        if xdg := os.environ.get("XDG_CONFIG_HOME"):
            return cls(Path(xdg) / "digpy" / "secrets")
        return cls(Path.home() / ".config" / "digpy" / "secrets")

    def get(self, key: str) -> str | None:
        record = self._read_records().get(key)
        if record is None:
            return None
        return self._cipher(create=False).decrypt(key, base64.b64decode(record))

    def set(self, key: str, value: str) -> None:
        validate_key(key)
        with self._locked():
            record = self._cipher(create=True).encrypt(key, value)
            records = self._read_records()
            records[key] = base64.b64encode(record).decode("ascii")
            self._write_records(records)

    def delete(self, key: str) -> bool:
        with self._locked():
            records = self._read_records()
            if records.pop(key, None) is None:
                return False
            self._write_records(records)
            return True

    def list(self) -> list[str]:
        """Names only, sorted; values are never listed."""
        return sorted(self._read_records())

    # -- files --------------------------------------------------------------------------

    def _cipher(self, *, create: bool) -> SecretCipher:
        path = self.directory / KEY_FILE
        if create:
            return SecretCipher(load_or_create_key(path))
        try:
            return SecretCipher(read_key(path))
        except FileNotFoundError:
            raise SecretError(f"The secret key file {path} is missing") from None

    def _read_records(self) -> dict[str, str]:
        path = self.directory / SECRETS_FILE
        try:
            check_private(path)
            document: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise SecretError(f"{path} is not valid JSON") from None
        records = document.get("secrets") if isinstance(document, dict) else None
        if not isinstance(records, dict):
            raise SecretError(f"{path} has no 'secrets' mapping")
        return {str(k): str(v) for k, v in records.items()}

    def _write_records(self, records: dict[str, str]) -> None:
        text = json.dumps({"version": 1, "secrets": dict(sorted(records.items()))}, indent=1)
        # mkstemp creates the file 0600; os.replace makes the switch atomic.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".secrets-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.directory / SECRETS_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock
