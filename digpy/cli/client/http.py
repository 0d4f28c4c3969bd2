"""``-e URL``: the HTTP transport to a digpy server, and what its failures mean to the user.

stdlib ``urllib`` only: a client command makes a handful of requests, so a connection pool
buys nothing, and ``digpy --help`` must not import an HTTP library. Every failure becomes a
one-line error with the documented exit code:

- nothing listens, DNS fails, timeout: ``DigpyError`` (exit 1);
- 401/403: ``ConfigError`` "token missing or wrong" (exit 2);
- 404: ``NotFoundOnServer`` (a ``ConfigError``, exit 2), which callers re-word ("attempt 42
  does not exist on URL");
- 409: ``ConflictOnServer`` carrying the server's JSON, for ``start``/``kill`` to explain;
- other 4xx: ``ConfigError`` with the server's message (exit 2);
- 5xx: ``DigpyError`` with the server's message (exit 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from digpy.errors import ConfigError, DigpyError

if TYPE_CHECKING:
    from digpy.cli.client.remote import HttpBackend

TIMEOUT_SECONDS = 30.0
USER_AGENT = "digpy-client"


class NotFoundOnServer(ConfigError):
    """404: what was asked for does not exist on the server."""


class ConflictOnServer(ConfigError):
    """409: the server refused because of existing state; ``body`` is its JSON answer."""

    def __init__(self, message: str, body: Any) -> None:
        super().__init__(message)
        self.body = body


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]  # names in lower case

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


def check_url(endpoint: str) -> str:
    url = endpoint.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"-e {endpoint!r} is not an http:// or https:// URL")
    return url


def path(*parts: object, **query: object) -> str:
    """``/api/attempts/7?x=1``: each part quoted, ``None`` query values left out."""
    text = "/" + "/".join(quote(str(p), safe="") for p in parts)
    pairs = {k: v if not isinstance(v, bool) else str(v).lower()
             for k, v in query.items() if v is not None}
    return text + ("?" + urlencode(pairs) if pairs else "")


class HttpClient:
    """JSON requests to one server; one instance per command."""

    def __init__(self, endpoint: str, token: str | None, *,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = check_url(endpoint)
        self.token = token
        self.timeout = timeout

    def get(self, target: str) -> Any:
        return self.send("GET", target).json()

    def send(self, method: str, target: str, body: Any = None, *,
             data: bytes | None = None, content_type: str = "application/json") -> Reply:
        """One request; ``body`` is sent as JSON, ``data`` as is."""
        import urllib.request

        if body is not None:
            data = json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + target, data=data, headers=headers,
                                         method=method)
        return self._open(request)

    def _open(self, request: Any) -> Reply:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                headers = {k.lower(): v for k, v in answer.headers.items()}
                return Reply(answer.status, answer.read(), headers)
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc.code, exc.read(), request) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DigpyError(f"cannot reach a digpy server at {self.url} ({reason}); is "
                             "`digpy server` running there?") from None

    def _refusal(self, status: int, raw: bytes, request: Any) -> DigpyError:
        body = _json_or_none(raw)
        message = server_message(body, raw) or f"HTTP {status}"
        what = f"{request.get_method()} {request.selector}"
        if status in (401, 403):
            hint = ("set DIGPY_API_TOKEN or token in the client config" if not self.token
                    else "check DIGPY_API_TOKEN or token in the client config")
            return ConfigError(f"{self.url}: token missing or wrong ({hint})")
        if status == 404:
            return NotFoundOnServer(f"{message} ({what} on {self.url})")
        if status == 409:
            return ConflictOnServer(message, body)
        if status == 429:  # the server is busy (attempt_max_run): try again later, exit 1
            return DigpyError(f"the server at {self.url} is busy: {message}")
        if status < 500:
            return ConfigError(f"the server refused {what}: {message}")
        return DigpyError(f"the server at {self.url} failed on {what}: {message}")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def server_message(body: Any, raw: bytes = b"") -> str:
    """The human part of an error answer: ``{"message": ...}`` (Digdag's shape), else
    ``{"error": ...}``, else the first line of the text."""
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value.splitlines()[0]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"]).splitlines()[0]
    text = raw.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0][:200] if text else ""


def connect(endpoint: str) -> HttpBackend:
    """An ``HttpBackend`` for ``endpoint``, after checking the server answers.

    :raises DigpyError: nothing answers at ``endpoint`` (exit 1).
    :raises ConfigError: not an http(s) URL, or the token is refused (exit 2)."""
    from digpy.cli.client.config import configured_token
    from digpy.cli.client.remote import HttpBackend

    client = HttpClient(endpoint, configured_token())
    client.get("/api/version")
    return HttpBackend(client)
