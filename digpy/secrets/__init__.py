"""Secrets: encrypted local storage, ``_secrets`` remapping and log masking.

Operators never import this package: they see secrets only through ``ctx.secrets``
(a ``SecretAccess``) and ``digpy.spi.secret_template.render_secrets``.
"""

from digpy.secrets.access import SecretAccess, SecretStore, remount
from digpy.secrets.crypto import SecretError
from digpy.secrets.local import LocalSecretStore, is_valid_key
from digpy.secrets.masking import MASK, Masker

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
