"""A TEST DOUBLE of the Treasure Data REST API (v3), served on 127.0.0.1 — not the real service.

It follows a job's lifecycle as TD does, far enough for td> and its client (td-client):

* ``POST /v3/job/issue/{type}/{db}`` (multipart form: query, domain_key, scheduled_time ...)
  → ``{"job_id"}``; a domain key used before → 409, as TD answers a duplicate submission;
* ``GET /v3/job/status/{id}``: each check moves a job queued → running → success/error
  (``checks_queued`` / ``checks_running`` checks in each state);
* ``GET /v3/job/show/{id}``: status, num_records, hive_result_schema, debug.cmdout/stderr;
* ``GET /v3/job/result/{id}?format=msgpack``: the rows, msgpack-encoded (404 for no result);
* ``GET /v3/job/status_by_domain_key/{key}``, ``POST /v3/job/kill/{id}``;
* ``POST /v3/table/create/{db}/{table}/log`` (409 when it exists);
* every request needs ``Authorization: TD1 <apikey>`` (401 otherwise).

What a job returns is decided when it is issued: a query containing ``-- FAIL`` ends in error
(its ``cmdout``/``stderr`` say why); otherwise the first ``results`` entry whose key occurs in
the query gives (column names, rows); the default is one row ``[1]`` named ``_col0``. INSERT
and CREATE jobs have no result. ``fail_next(n)`` answers the next n requests with 500.
"""

from __future__ import annotations

import email.parser
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgpack


@dataclass
class DoubleJob:
    job_id: str
    type: str
    database: str
    query: str
    params: dict[str, str]
    columns: list[str]
    rows: list[list[Any]]
    fails: bool
    status: str = "queued"
    checks: int = 0

    @property
    def has_result(self) -> bool:
        return not re.search(r"^\s*(INSERT|CREATE|DROP)\b", _body(self.query), re.I | re.M)


def _body(query: str) -> str:
    return "\n".join(line for line in query.splitlines() if not line.startswith("--"))


@dataclass
class TdApiDouble:
    apikey: str = "test-apikey"
    checks_queued: int = 1
    checks_running: int = 1
    results: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)
    jobs: dict[str, DoubleJob] = field(default_factory=dict)
    domain_keys: dict[str, str] = field(default_factory=dict)
    tables: set[tuple[str, str]] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int) -> None:
        self._failures = count

    # ---- the API, one method per endpoint: (status, JSON or bytes body) -----------------

    def issue(self, engine: str, database: str, form: dict[str, str]) -> tuple[int, Any]:
        key = form.get("domain_key")
        if key and key in self.domain_keys:
            return 409, {"error": f"Domain key '{key}' has already been used"}
        job_id = str(1000 + len(self.jobs))
        query = form.get("query", "")
        columns, rows = next((v for k, v in self.results.items() if k in query),
                             (["_col0"], [[1]]))
        self.jobs[job_id] = DoubleJob(job_id, engine, database, query, form, columns, rows,
                                      fails="-- FAIL" in query)
        if key:
            self.domain_keys[key] = job_id
        return 200, {"job_id": job_id, "database": database}

    def status(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, {"error": "job not found"}
        self._advance(job)
        return 200, {"job_id": job_id, "status": job.status, "num_records": self._records(job)}

    def _advance(self, job: DoubleJob) -> None:
        if job.status not in ("queued", "running"):
            return
        job.checks += 1
        if job.checks > self.checks_queued + self.checks_running:
            job.status = "error" if job.fails else "success"
        elif job.checks > self.checks_queued:
            job.status = "running"

    def _records(self, job: DoubleJob) -> int:
        return len(job.rows) if job.status == "success" else 0

    def show(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, {"error": "job not found"}
        schema = [[c, "varchar"] for c in job.columns] if job.has_result else []
        debug = ({"cmdout": "started at 2016-01-30T00:00:00Z\nexecuting query",
                  "stderr": "Query failed: line 1:8: Column 'nope' cannot be resolved"}
                 if job.status == "error" else {"cmdout": "", "stderr": ""})
        return 200, {"job_id": job_id, "status": job.status, "type": job.type,
                     "database": job.database, "query": job.query,
                     "num_records": self._records(job), "result_size": 10,
                     "hive_result_schema": json.dumps(schema), "debug": debug,
                     "priority": int(job.params.get("priority", 0)),
                     "retry_limit": int(job.params.get("retry_limit", 0))}

    def result(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None or job.status != "success" or not job.has_result:
            return 404, {"error": "no result"}
        return 200, b"".join(msgpack.packb(row) for row in job.rows)

    def by_domain_key(self, key: str) -> tuple[int, Any]:
        job_id = self.domain_keys.get(key)
        if job_id is None:
            return 404, {"error": "no job with this domain key"}
        return 200, {"job_id": job_id, "status": self.jobs[job_id].status}

    def kill(self, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return 404, {"error": "job not found"}
        former, job.status = job.status, "killed" if job.status in ("queued", "running") \
            else job.status
        return 200, {"job_id": job_id, "former_status": former}

    def create_table(self, database: str, table: str) -> tuple[int, Any]:
        if (database, table) in self.tables:
            return 409, {"error": f"Table {table} already exists"}
        self.tables.add((database, table))
        return 200, {"database": database, "table": table, "type": "log"}

    # ---- routing ------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
            if self._failures > 0:
                self._failures -= 1
                return 500, {"error": "internal error (injected by the double)"}
            if headers.get("Authorization") != f"TD1 {self.apikey}":
                return 401, {"error": "authentication failed"}
            return self._route(method, urlparse(path).path, headers, body)

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")[1:]  # drop "v3"
        match (method, parts):
            case ("POST", ["job", "issue", engine, database]):
                return self.issue(engine, database, _form(headers, body))
            case ("GET", ["job", "status", job_id]):
                return self.status(job_id)
            case ("GET", ["job", "show", job_id]):
                return self.show(job_id)
            case ("GET", ["job", "result", job_id]):
                return self.result(job_id)
            case ("GET", ["job", "status_by_domain_key", key]):
                return self.by_domain_key(key)
            case ("POST", ["job", "kill", job_id]):
                return self.kill(job_id)
            case ("POST", ["table", "create", database, table, "log"]):
                return self.create_table(database, table)
        return 404, {"error": f"no such endpoint in the double: {method} {path}"}


def _form(headers: Any, body: bytes) -> dict[str, str]:
    ctype = headers.get("Content-Type", "")
    if ctype.startswith("multipart/form-data"):
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        return {str(part.get_param("name", header="content-disposition")):
                part.get_payload(decode=True).decode() for part in message.get_payload()}
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


class _Handler(BaseHTTPRequestHandler):
    double: TdApiDouble

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        status, payload = self.double.handle(method, self.path, self.headers,
                                             self.rfile.read(length) if length else b"")
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if isinstance(payload, bytes)
                         else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the double's requests are in TdApiDouble.requests."""


class TdApiServer:
    """Runs a TdApiDouble on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, double: TdApiDouble) -> None:
        handler = type("Handler", (_Handler,), {"double": double})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> TdApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
