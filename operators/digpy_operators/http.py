"""``http>: URI`` sends one HTTP request (Digdag ``HttpOperatorFactory``; spec §4 http> row
and §3.8 "http retry"; docs/operators.md).

- Options come from the params merged with the ``http:`` map (a top-level key wins).
- Secrets: ``http.uri`` replaces the URI; ``http.authorization`` is sent as the
  Authorization header, else ``http.user`` + ``http.password`` as basic auth. ``${secret:}``
  is allowed in the URI; a secret URI is logged as ``scheme://***``. Headers are never
  logged, and the Authorization header is dropped on a redirect to another origin.
- 2xx and 3xx (a redirect not followed) succeed. Other 4xx fail at once. 5xx, 408, 429,
  other statuses and network errors (timeouts included) are retried when ``retry`` is on
  (the default for GET, HEAD, OPTIONS and TRACE): the operator never sleeps, it raises
  ``PollAgain`` (1 s doubling to 30 s) with the retry count in its state, at most
  ``MAX_RETRIES`` times, then fails naming the last status.
- Stores ``http.last_status`` (always) and ``http.last_content`` (``store_content: true``,
  text of at most 64 KiB); both are reset first, so a stale value never survives.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from digpy.spi import ConfigError, Operator, PollAgain, TaskFailed, TaskResult, parse_duration
from digpy.spi.secret_template import SECRET_PATTERN, render_secrets

DEFAULT_TIMEOUT = 30.0
MAX_STORED_CONTENT = 64 * 1024  # characters, as Digdag's max_stored_response_content_size
MAX_REDIRECTS = 8
MAX_RETRIES = 10  # Digdag retries forever; ten retries cover about 3.5 minutes of trouble
RETRY_MIN_SECONDS, RETRY_MAX_SECONDS = 1, 30
RETRIED_BY_DEFAULT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
USER_AGENT = "digpy (Digdag-compatible http>)"
RESET_KEYS = ("http.last_status", "http.last_content")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    safe_url: str  # what the log and error messages show
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    timeout: float
    follow_redirects: bool
    insecure: bool
    proxy: str | None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    reason: str
    content: str | None


class _Retryable(Exception):  # an internal signal; it never leaves this module
    """A failure that may go away: 5xx, 408, 429, an odd status or a network error."""


class HttpOperator(Operator):
    type: ClassVar[str] = "http"
    retryable: ClassVar[bool] = True

    def run(self) -> TaskResult:
        params = merged_params(self.request.config, "http")
        request = self._build(params)
        store_content = _bool(params, "store_content", False)
        retries = _retries(params, request.method)
        if self.ctx.cancel.is_set():
            raise TaskFailed(self.ctx.cancel.reason or "The task was canceled")
        self.ctx.log.write(f"Sending HTTP request: {request.method} {request.safe_url}\n")
        try:
            response = send(request, store_content)
            self.ctx.log.write(f"Received HTTP response: {response.status} {response.reason}\n")
            _check(request, response)
        except _Retryable as exc:
            self._retry_or_fail(str(exc), retries)
        stored: dict[str, Any] = {"last_status": response.status}
        if response.content is not None:
            stored["last_content"] = response.content
        return TaskResult(store_params={"http": stored}, reset_store_params=RESET_KEYS)

    def _build(self, params: Mapping[str, Any]) -> HttpRequest:
        url, secret_url = self._uri(params)
        parts = urllib.parse.urlsplit(url)
        user, password = self._credentials(parts)
        body = _body(params)
        # Later entries win (urllib keeps one value per name): the task's own headers beat
        # the defaults, and the credentials from secrets beat everything.
        headers = [("User-Agent", USER_AGENT)]
        if body is not None:
            headers.append(("Content-Type", body[1]))
        headers.extend(_headers(params.get("headers")))
        headers.extend(self._auth(user, password))
        clean = _without_userinfo(_with_query(parts, params.get("query")))
        return HttpRequest(
            method=_method(params),
            url=urllib.parse.urlunsplit(clean),
            safe_url=f"{clean.scheme}://***" if secret_url else urllib.parse.urlunsplit(clean),
            headers=tuple(headers),
            body=body[0] if body is not None else None,
            timeout=_timeout(params.get("timeout")),
            follow_redirects=_bool(params, "follow_redirects", True),
            insecure=_bool(params, "insecure", False),
            proxy=_proxy(params.get("proxy")),
        )

    def _uri(self, params: Mapping[str, Any]) -> tuple[str, bool]:
        """The URI and whether it holds a secret (then it is never shown)."""
        secret = self.ctx.secrets.get("http.uri")
        if secret:
            return _checked_url(secret, shown="the http.uri secret"), True
        command = params.get("_command")
        if not isinstance(command, str) or not command.strip():
            raise ConfigError("http> needs a URI, e.g. 'http>: https://example.com/api'")
        has_secret = SECRET_PATTERN.search(command) is not None
        url = render_secrets(command.strip(), self.ctx.secrets)
        return _checked_url(url, shown="the URI" if has_secret else repr(command)), has_secret

    def _credentials(self, parts: urllib.parse.SplitResult) -> tuple[str | None, str | None]:
        user = self.ctx.secrets.get("http.user")
        if user is not None:
            return user, self.ctx.secrets.get("http.password") or ""
        if parts.username is not None:  # https://user:pass@host/ (urllib would not send it)
            return urllib.parse.unquote(parts.username), urllib.parse.unquote(
                parts.password or "")
        return None, None

    def _auth(self, user: str | None, password: str | None) -> list[tuple[str, str]]:
        authorization = self.ctx.secrets.get("http.authorization")
        if authorization is not None:
            return [("Authorization", authorization)]
        if user is None:
            return []
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
        # Digdag registers basic credentials for the URI, which sends them with the first
        # request; the encoded form is registered nowhere, so never write it to the log.
        return [("Authorization", f"Basic {token}")]

    def _retry_or_fail(self, message: str, limit: int) -> NoReturn:
        count = int(self.request.last_state.get("retry", 0) or 0)
        if count >= limit:
            tried = f" (gave up after {count + 1} attempts)" if count else ""
            raise TaskFailed(message + tried)
        interval = min(RETRY_MIN_SECONDS * 2**count, RETRY_MAX_SECONDS)
        self.ctx.log.write(f"{message}: retrying in {interval} seconds\n")
        raise PollAgain(interval, {"retry": count + 1})


def merged_params(config: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    nested = config.get(namespace)
    merged = dict(nested) if isinstance(nested, Mapping) else {}
    merged.update(config)
    return merged


def send(request: HttpRequest, store_content: bool) -> HttpResponse:
    """One request; a response of any status, or ``_Retryable`` for a network error."""
    req = urllib.request.Request(request.url, data=request.body, method=request.method)
    for name, value in request.headers:
        req.add_header(name, value)
    try:
        try:
            response = _opener(request).open(req, timeout=request.timeout)
        except urllib.error.HTTPError as error:  # a non-2xx status is still a response
            response = error
        with response:
            status = response.status if response.status is not None else 0
            content = _read_content(response) if store_content else None
            return HttpResponse(status, http.client.responses.get(status, ""), content)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        detail = str(reason) or type(reason).__name__
        raise _Retryable(
            f"HTTP request failed: {request.method} {request.safe_url}: {detail}") from None


def _check(request: HttpRequest, response: HttpResponse) -> None:
    status = f"{request.method} {request.safe_url}: {response.status} {response.reason}"
    if 200 <= response.status < 400:
        return  # 3xx: a redirect we were told not to follow (Digdag: done)
    if response.status in (408, 429):
        raise _Retryable(f"Failed HTTP request: {status}")
    if 400 <= response.status < 500:
        raise TaskFailed(f"HTTP 4XX Client Error: {status}")
    if 500 <= response.status < 600:
        raise _Retryable(f"HTTP 5XX Server Error: {status}")
    raise _Retryable(f"Unexpected HTTP status: {status}")


def _read_content(response: Any) -> str:
    # UTF-8 takes at most 4 bytes a character: more bytes than this is surely too long,
    # and reading no further keeps memory bounded whatever the server sends.
    data = response.read(4 * MAX_STORED_CONTENT + 1)
    if len(data) > 4 * MAX_STORED_CONTENT:
        raise TaskFailed(f"Response content too large: more than {MAX_STORED_CONTENT} "
                         "characters (store_content keeps at most 64 KiB)")
    charset = response.headers.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_STORED_CONTENT:
        raise TaskFailed(f"Response content too large: {len(text)} > {MAX_STORED_CONTENT}")
    return text


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def __init__(self, follow: bool) -> None:
        self.follow = follow

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        if not self.follow or urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            return None  # the 3xx response is the result
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            # Credentials are for the origin they were given for, never for where it points.
            new.remove_header("Authorization")
        return new


def _opener(request: HttpRequest) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()
    if request.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.HTTPSHandler(context=context), _Redirects(request.follow_redirects)]
    if request.proxy is not None:
        handlers.append(urllib.request.ProxyHandler({"http": request.proxy,
                                                     "https": request.proxy}))
    return urllib.request.build_opener(*handlers)


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc.rpartition("@")[2].lower()


def _checked_url(url: str, *, shown: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"http> {shown} is not a valid URI") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # urllib would also open file:, ftp: and data: URIs; an http> task never should.
        raise ConfigError(f"http> {shown} must be an http:// or https:// URI with a host")
    return url


def _without_userinfo(parts: urllib.parse.SplitResult) -> urllib.parse.SplitResult:
    return parts._replace(netloc=parts.netloc.rpartition("@")[2])


def _with_query(parts: urllib.parse.SplitResult, query: Any) -> urllib.parse.SplitResult:
    """``query`` as a map (values as text) or a string, appended to the URI's own query."""
    if query is None:
        return parts
    if isinstance(query, Mapping):
        pairs = [(str(k), _text(v, f"query '{k}'")) for k, v in query.items()]
    elif isinstance(query, str):
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    else:
        raise ConfigError(f"http> option 'query' must be a map or a string, not {query!r}")
    extra = urllib.parse.urlencode(pairs)
    joined = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
    return parts._replace(query=joined)


def _headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("http> option 'headers' must be a list of single-entry maps, "
                          "e.g. [{Accept: application/json}]")
    headers = []
    for entry in value:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ConfigError(f"Invalid header: {json.dumps(entry, default=str)}")
        ((name, raw),) = entry.items()
        text = _text(raw, f"header '{name}'")
        if not isinstance(name, str) or not name or any(c in name + text for c in "\r\n"):
            raise ConfigError(f"Invalid header: {name!r} (names and values are single lines)")
        headers.append((name, text))
    return headers


def _body(params: Mapping[str, Any]) -> tuple[bytes, str] | None:
    """Digdag's table: maps/lists default to json (or form for a map), scalars to text."""
    if params.get("content") is None:
        return None
    content, content_type = params["content"], params.get("content_type")
    fmt = str(params.get("content_format") or "").lower() or None
    kind = _kind(content)
    if isinstance(content, Mapping | list):
        fmt = fmt or "json"
        if fmt == "form" and isinstance(content, Mapping):
            fields = [(str(k), _form_value(v)) for k, v in content.items()]
            return urllib.parse.urlencode(fields).encode(), str(
                content_type or "application/x-www-form-urlencoded")
    else:
        fmt = fmt or "text"
        if fmt == "text":
            return _text(content, "content").encode(), str(
                content_type or "text/plain; charset=utf-8")
    if fmt == "json":
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        return text.encode(), str(content_type or "application/json")
    raise ConfigError(f"Invalid content format for {kind}s: '{fmt}'")


def _kind(value: Any) -> str:
    """The JSON type name Digdag's messages use."""
    kinds: tuple[tuple[Any, str], ...] = (
        (Mapping, "object"), (list, "array"), (bool, "boolean"), (int | float, "number"),
        (str, "string"))
    return next((name for cls, name in kinds if isinstance(value, cls)), "null")


def _form_value(value: Any) -> str:
    if isinstance(value, Mapping | list):
        raise ConfigError(f"Invalid form content field value: {json.dumps(value)}")
    return _text(value, "form field")


def _text(value: Any, what: str) -> str:
    """A scalar as Digdag's asText writes it (true, 1.5, null); containers are errors."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list):
        raise ConfigError(f"http> {what} must be a single value, not {json.dumps(value)}")
    return json.dumps(value)


def _method(params: Mapping[str, Any]) -> str:
    method = params.get("method", "GET")
    if not isinstance(method, str) or not method.isalpha():
        raise ConfigError(f"http> option 'method' must be a method name such as POST, "
                          f"not {method!r}")
    return method.upper()


def _retries(params: Mapping[str, Any], method: str) -> int:
    """How many retries: ``retry: true`` is MAX_RETRIES, a number is that many."""
    value = params.get("retry")
    if value is None:
        return MAX_RETRIES if method in RETRIED_BY_DEFAULT else 0
    if isinstance(value, bool):
        return MAX_RETRIES if value else 0
    if isinstance(value, int) and value >= 0:
        return value
    raise ConfigError(f"http> option 'retry' must be true, false or a number of retries, "
                      f"not {value!r}")


def _timeout(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        try:
            seconds = parse_duration(value.strip())
        except ConfigError:
            seconds = 0
        if seconds > 0:
            return float(seconds)
    raise ConfigError(f"http> option 'timeout' must be a positive number of seconds or a "
                      f"duration such as 30s, not {value!r}")


def _bool(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"http> option '{name}' must be true or false, not {value!r}")


def _proxy(value: Any) -> str | None:
    """Digdag's ``proxy: {enabled, host, port, tls}``; otherwise the *_proxy variables."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(
            "http> option 'proxy' must be a map such as {enabled: true, host: h, port: 8080}")
    if not _bool(value, "enabled", False):
        return None
    host, port = value.get("host"), value.get("port")
    if not isinstance(host, str) or not host or not isinstance(port, int):
        raise ConfigError("http> option 'proxy' needs a host and a numeric port")
    scheme = "https" if _bool(value, "tls", False) else "http"
    return f"{scheme}://{host}:{port}"
