"""Task logs: the files of an attempt (one per task, masked as written) and their text,
readable from a byte offset so ``digpy log -f`` can follow a running task.

A file name is only ever matched against the attempt's own tasks' log files, and the path
must resolve inside ``<data_dir>/logs/<attempt id>/`` (Digdag GHSA-5mp4-32rr-v3x5 read files
outside the log folder through ``..`` names)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digpy.api.errors import not_found
from digpy.api.request import ApiContext, ApiRequest
from digpy.api.routes import Endpoint, Reply
from digpy.api.shapes import log_file_of, utc
from digpy.model.records import Task

MAX_CHUNK_BYTES = 4 * 1024 * 1024  # one response; a follower asks again from the new offset


def _log_tasks(ctx: ApiContext, attempt_id: int) -> list[tuple[Task, Path]]:
    with ctx.store.read() as tx:
        tx.attempts.get_attempt(attempt_id)
        rows = tx.tasks.list_tasks(attempt_id)
    root = (ctx.data_dir / "logs" / str(attempt_id)).resolve()
    found = []
    for task in rows:
        if task.log_path:
            path = Path(task.log_path).resolve()
            if path.is_relative_to(root) and path.is_file():
                found.append((task, path))
    return found


def list_files(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    prefix = req.text("task")
    files = []
    for task, path in _log_tasks(ctx, req.path_id("attempt_id")):
        if prefix is not None and not task.full_name.startswith(prefix):
            continue
        stat = path.stat()
        files.append({"fileName": log_file_of(task), "fileSize": stat.st_size,
                      "taskName": task.full_name,
                      "fileTime": utc(datetime.fromtimestamp(stat.st_mtime, UTC)),
                      "agentId": "digpy", "direct": None})
    return {"files": files}


def read_file(ctx: ApiContext, req: ApiRequest) -> Reply:
    attempt_id, name = req.path_id("attempt_id"), req.path["file"]
    offset = req.integer("offset", default=0) or 0
    for task, path in _log_tasks(ctx, attempt_id):
        if log_file_of(task) == name:
            text, after = _read_from(path, offset)
            return Reply(content=text, media_type="text/plain; charset=utf-8",
                         headers={"X-Digpy-Next-Offset": str(after)})
    raise not_found(f"attempt {attempt_id} has no log file {name!r}")


def _read_from(path: Path, offset: int) -> tuple[bytes, int]:
    """Bytes from ``offset`` up to the last complete line, and the offset after them (a
    multi-byte character or a half-written line is never cut)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(MAX_CHUNK_BYTES)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == MAX_CHUNK_BYTES:
        end = len(data)  # one enormous line: hand it out in pieces rather than never
    return data[:end], offset + end


ENDPOINTS = [
    Endpoint(method="GET", path="/api/logs/{attempt_id}/files", handler=list_files,
             summary="List an attempt's task log files", returns="LogFileList",
             query=("task",)),
    Endpoint(method="GET", path="/api/logs/{attempt_id}/files/{file}", handler=read_file,
             summary="Read a task log from a byte offset", returns="text",
             query=("offset",)),
]
