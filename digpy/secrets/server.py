"""Secrets of ``digpy server``: set through the REST API, stored encrypted in the database
(``secrets`` table), read by the project's tasks as ``${secret:key}`` / ``ctx.secrets``.

The server key is ``<data_dir>/secret.key`` (base64, mode 0600, created on first start and
refused when others can read it). The record's associated data is the project id and the key
name, so a ciphertext copied to another project or key fails to decrypt (reliability X2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from digpy.secrets.access import SecretAccess
from digpy.secrets.crypto import SecretCipher, load_or_create_key
from digpy.secrets.local import validate_key
from digpy.store.base import Store

KEY_FILE = "secret.key"


def server_cipher(data_dir: Path) -> SecretCipher:
    """The daemon's cipher; creates the key file on first use.

    :raises SecretError: the key file is readable by others or is not a key."""
    return SecretCipher(load_or_create_key(data_dir / KEY_FILE))


def record_name(project_id: int, key: str) -> str:
    """What a record is sealed to (AES-GCM associated data): project and key."""
    return f"project {project_id} secret {key}"


class ProjectSecrets:
    """One project's secrets (a ``SecretStore``). Reads open their own transaction, so an
    operator thread may call ``get`` while the daemon's thread writes."""

    def __init__(self, store: Store, cipher: SecretCipher, project_id: int) -> None:
        self.store = store
        self.cipher = cipher
        self.project_id = project_id

    def list_keys(self) -> list[str]:
        with self.store.read() as tx:
            return tx.secrets.list_keys(self.project_id)

    def get(self, key: str) -> str | None:
        with self.store.read() as tx:
            record = tx.secrets.get_record(self.project_id, key)
        if record is None:
            return None
        return self.cipher.decrypt(record_name(self.project_id, key), record)

    def set(self, key: str, value: str, *, now: Any) -> None:
        """:raises SecretError: a bad key name or a value over 16 KiB."""
        record = self.cipher.encrypt(record_name(self.project_id, validate_key(key)), value)
        with self.store.write() as tx:
            tx.secrets.put_record(self.project_id, key, record, now=now)

    def delete(self, key: str) -> bool:
        with self.store.write() as tx:
            return tx.secrets.delete_record(self.project_id, key)


def server_secrets(store: Store, cipher: SecretCipher, masker: Any) -> Callable[[Any], Any]:
    """The runner's secrets factory: each task sees its project's secrets through its
    ``_secrets`` remapping, and every value read is masked in the logs."""

    def factory(request: Any) -> SecretAccess:
        backing = ProjectSecrets(store, cipher, request.project_id)
        return SecretAccess(backing, request.config.get("_secrets"), masker)

    return factory
