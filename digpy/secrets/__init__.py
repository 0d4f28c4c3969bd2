"""Secrets: encrypted local storage, ``_secrets`` remapping and log masking.

Operators never import this package: they see secrets only through ``ctx.secrets``
(a ``SecretAccess``) and ``digpy.spi.secret_template.render_secrets``.

The names below are imported on first use (PEP 562): every ``digpy run`` imports
``digpy.secrets.masking``, and importing the whole package would load ``cryptography``
(about 10 ms of start-up) for runs that never read a secret.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digpy.secrets.access import SecretAccess, SecretStore, remount
    from digpy.secrets.crypto import SecretError
    from digpy.secrets.local import LocalSecretStore, is_valid_key
    from digpy.secrets.masking import MASK, Masker

_WHERE = {
    "MASK": "masking",
    "Masker": "masking",
    "LocalSecretStore": "local",
    "is_valid_key": "local",
    "SecretAccess": "access",
    "SecretStore": "access",
    "remount": "access",
    "SecretError": "crypto",
}

__all__ = [
    "MASK",
    "LocalSecretStore",
    "Masker",
    "SecretAccess",
    "SecretError",
    "SecretStore",
    "is_valid_key",
    "remount",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
