"""Secrets through the API are write-only: keys are listed, values never come back (from
any GET route), are encrypted at rest, reach the project's own ``sh>`` tasks as
``${secret:...}`` and are masked in their logs (reliability X1-X4)."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

from api_helpers import write_project
from live_server import LiveServer

SESSION = "2024-05-01T00:00:00+00:00"


def every_get_route(server: LiveServer, ids: dict[str, str]) -> list[str]:
    paths = server.get("/api/openapi.json")["paths"]
    concrete = []
    for path, operations in paths.items():
        if "get" in operations:
            for name, value in ids.items():
                path = path.replace("{" + name + "}", value)
            concrete.append(path)
    return concrete


def test_a_secret_is_used_by_sh_masked_in_logs_and_never_returned(
        server: LiveServer, tmp_path: Path) -> None:
    canary = f"dp-canary-{uuid.uuid4()}"
    out = tmp_path / "seen.txt"
    project = server.push("secretive", write_project(tmp_path / "secretive", {
        "use.dig": f"+show:\n  sh>: echo ${{secret:db.password}} > {out}; "
                   f"echo pass=${{secret:db.password}}\n"}))
    answer = server.request("PUT", f"/api/projects/{project['id']}/secrets/db.password",
                            {"value": canary})
    assert (answer.status, answer.body) == (204, b"")
    assert server.get(f"/api/projects/{project['id']}/secrets") == {
        "secrets": [{"key": "db.password"}]}
    attempt = server.start(project["id"], "use", SESSION).json()
    assert server.wait_done(attempt["id"])["status"] == "success"
    assert out.read_text().strip() == canary  # the task got the value
    log = server.request("GET", f"/api/logs/{attempt['id']}/files/+use+show.log").text
    assert log == "pass=***\n"
    ids = {"id": project["id"], "attempt_id": attempt["id"], "name": "use",
           "key": "db.password", "file": "+use+show.log"}
    for path in every_get_route(server, ids):
        body = server.request("GET", path).body
        assert canary.encode() not in body, path
    assert canary.encode() not in (server.data_dir / "digpy.db").read_bytes()
    wal = server.data_dir / "digpy.db-wal"
    assert not wal.exists() or canary.encode() not in wal.read_bytes()


def test_the_server_key_file_is_private(server: LiveServer) -> None:
    key = server.data_dir / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_secret_of_one_project_is_invisible_to_another(
        server: LiveServer, tmp_path: Path) -> None:
    owner = server.push("owner", write_project(tmp_path / "owner", {
        "noop.dig": "+a:\n  echo>: hi\n"}))
    server.request("PUT", f"/api/projects/{owner['id']}/secrets/shared.key", {"value": "v1"})
    out = tmp_path / "other.txt"
    other = server.push("other", write_project(tmp_path / "other", {
        "peek.dig": f"+peek:\n  sh>: echo \"[${{secret:shared.key}}]\" > {out}\n"}))
    attempt = server.start(other["id"], "peek", SESSION).json()
    done = server.wait_done(attempt["id"])
    assert done["status"] == "error" and not out.exists()
    assert "Secret not found for key: 'shared.key'" in done["error"]


def test_secrets_are_replaced_deleted_and_validated(server: LiveServer, tmp_path: Path) -> None:
    project = server.push("keys", write_project(tmp_path / "keys", {
        "noop.dig": "+a:\n  echo>: hi\n"}))
    base = f"/api/projects/{project['id']}/secrets"
    assert server.request("PUT", f"{base}/td.apikey", {"value": "one"}).status == 204
    assert server.request("PUT", f"{base}/td.apikey", {"value": "two"}).status == 204
    assert server.get(base) == {"secrets": [{"key": "td.apikey"}]}
    assert server.request("DELETE", f"{base}/td.apikey").status == 204
    assert server.request("DELETE", f"{base}/td.apikey").status == 404
    assert server.get(base) == {"secrets": []}
    assert server.request("PUT", f"{base}/bad..key", {"value": "x"}).status == 400
    assert server.request("PUT", f"{base}/ok", {"nothing": 1}).status == 400
    assert server.request("PUT", f"{base}/big", {"value": "x" * 20000}).status == 400
    assert server.request("GET", "/api/projects/999/secrets").status == 404
