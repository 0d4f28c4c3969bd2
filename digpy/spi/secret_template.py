"""``${secret:KEY}`` in operator text (a sh> command, an ``_env`` value, an http> URI).

Normal ``${...}`` has already been evaluated when an operator runs; the template engine
passes ``${secret:...}`` through untouched, and only operators resolve it, so a secret
never lands in params, the store or a rendered config (Digdag ``UserSecretTemplate``).
"""

from __future__ import annotations

import re

from digpy.errors import TaskFailed
from digpy.spi.types import SecretProvider

# Same pattern as Digdag: non-greedy up to the first "}", the key trimmed.
SECRET_PATTERN = re.compile(r"\$\{secret:([\s\S]+?)\}")


def render_secrets(text: str, secrets: SecretProvider) -> str:
    """Replace every ``${secret:KEY}`` in ``text`` with the secret's value.

    A missing secret raises ``TaskFailed`` naming the key, never a value."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        if not key:
            raise TaskFailed(f"Empty secret key in '{match.group(0)}'")
        value = secrets.get(key)
        if value is None:
            raise TaskFailed(f"Secret not found for key: '{key}'")
        return value

    return SECRET_PATTERN.sub(replace, text)


def secret_keys(text: str) -> list[str]:
    """The keys ``text`` refers to, in order (for checks that must not read values)."""
    return [m.group(1).strip() for m in SECRET_PATTERN.finditer(text)]
