"""Hostile input: log file names outside the attempt's folder, oversized bodies, huge page
sizes (reliability A5, GHSA-5mp4-32rr-v3x5)."""

from __future__ import annotations

import os
from pathlib import Path

from api_helpers import write_project
from live_server import LiveServer


def test_log_file_names_cannot_reach_outside_the_attempts_log_folder(
        server: LiveServer, tmp_path: Path) -> None:
    project = server.push("logs", write_project(tmp_path / "logs", {
        "one.dig": "+a:\n  sh>: echo inside\n"}))
    attempt = server.start(project["id"], "one", "2024-05-01T00:00:00+00:00").json()
    server.wait_done(attempt["id"])
    base = f"/api/logs/{attempt['id']}/files/"
    for name in ("..", "../..", "..%2F..%2Fdigpy.db", "%2Fetc%2Fpasswd", "foo%2F..%2F..%2Fbar",
                 "+one+a.log%2F..", "..%2F1%2F%2Bone%2Ba.log"):
        answer = server.request("GET", base + name)
        assert answer.status in (400, 404), name
        assert b"SQLite" not in answer.body and b"root:" not in answer.body
    assert server.request("GET", base + "%2Bone%2Ba.log").text == "inside\n"


def test_an_archive_over_the_limit_is_413(server: LiveServer) -> None:
    answer = server.request("PUT", "/api/projects", os.urandom(2 * 1024 * 1024 + 1),
                            query={"project": "huge"}, content_type="application/gzip")
    assert answer.status == 413 and answer.json()["status"] == 413
    assert server.get("/api/projects", name="huge") == {"projects": []}


def test_a_page_size_over_the_cap_is_served_capped(server: LiveServer) -> None:
    assert server.request("GET", "/api/attempts", query={"page_size": 10**9}).status == 200
    assert server.request("GET", "/api/attempts", query={"page_size": 0}).status == 400
