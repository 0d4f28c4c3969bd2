"""``-e URL``: the seam for a digpy server. The REST API is being written; until an
``HttpBackend`` exists this checks the server is reachable and says what is missing, so a
typo in the URL and a missing feature give different one-line errors."""

from __future__ import annotations

from typing import NoReturn

PROBE_TIMEOUT_SECONDS = 3.0


def connect(endpoint: str) -> NoReturn:
    """:raises DigpyError: nothing answers at ``endpoint`` (exit 1).
    :raises ConfigError: something answers, but this client has no HTTP backend yet (2)."""
    import urllib.error
    import urllib.request

    from digpy.errors import ConfigError, DigpyError

    url = endpoint.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"-e {endpoint!r} is not an http:// or https:// URL")
    try:
        with urllib.request.urlopen(url + "/api/version", timeout=PROBE_TIMEOUT_SECONDS):
            pass
    except urllib.error.HTTPError:
        pass  # something answers: fall through to the "not yet" message
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DigpyError(f"cannot reach a digpy server at {url} ({reason}); is `digpy "
                         "server` running there?") from None
    raise ConfigError(f"{url} answers, but this digpy has no client for a digpy server yet; "
                      "use --project DIR to read a project's local state")
