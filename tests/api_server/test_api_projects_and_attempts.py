"""The REST API against a live daemon: upload a project, read it back in Digdag's shapes,
start an attempt that runs to success, and the errors (404, 400, 409) around it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from api_helpers import write_project
from live_server import LiveServer, tar_gz

HELLO = {
    "hello.dig": "timezone: Asia/Tokyo\n+first:\n  sh>: echo first-line\n"
                 "+second:\n  echo>: second ${session_date}\n",
    "lib/notes.txt": "kept in the archive\n",
}
PROJECT_KEYS = {"id", "name", "revision", "createdAt", "updatedAt", "deletedAt", "archiveType",
                "archiveMd5", "revisionHash"}
ATTEMPT_KEYS = {"id", "index", "project", "workflow", "sessionId", "sessionUuid", "sessionTime",
                "retryAttemptName", "done", "success", "cancelRequested", "status", "params",
                "createdAt", "finishedAt", "timezone", "trigger", "who", "revision",
                "revisionHash", "error"}
TASK_KEYS = {"id", "fullName", "parentId", "upstreams", "isGroup", "state", "cancelRequested",
             "config", "exportParams", "storeParams", "stateParams", "error", "startedAt",
             "updatedAt", "retryAt", "attemptId", "operator", "finishedAt", "retryCount",
             "logFile"}


def pushed(server: LiveServer, tmp_path: Path, name: str = "hello") -> dict:
    return server.push(name, write_project(tmp_path / name, HELLO), revision="r1")


def test_an_uploaded_project_is_listed_with_its_revision_and_workflows(
        server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "listed")
    assert set(project) == PROJECT_KEYS
    assert (project["name"], project["revision"], project["archiveType"]) == ("listed", "r1", "db")
    assert project in server.get("/api/projects")["projects"]
    assert server.get("/api/projects", name="listed")["projects"] == [project]
    assert server.get(f"/api/projects/{project['id']}") == project
    revisions = server.get(f"/api/projects/{project['id']}/revisions")["revisions"]
    assert [r["revision"] for r in revisions] == ["r1"]
    workflows = server.get(f"/api/projects/{project['id']}/workflows")["workflows"]
    assert [(w["name"], w["timezone"], w["tasks"], w["source"]) for w in workflows] == [
        ("hello", "Asia/Tokyo", 3, "hello.dig")]
    assert workflows[0]["project"] == {"id": project["id"], "name": "listed"}
    assert server.get(f"/api/workflows/{workflows[0]['id']}") == workflows[0]
    assert workflows[0] in server.get("/api/workflows")["workflows"]


def test_the_archive_downloads_as_the_uploaded_files(server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "download")
    answer = server.request("GET", f"/api/projects/{project['id']}/archive")
    assert answer.status == 200 and answer.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(answer.body), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["hello.dig", "lib/notes.txt"]


def test_a_started_attempt_runs_to_success_and_its_tasks_and_logs_are_served(
        server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "runs")
    started = server.start(project["id"], "hello", "2024-05-01T00:00:00+09:00")
    assert started.status == 200, started.body
    attempt = started.json()
    assert set(attempt) == ATTEMPT_KEYS
    assert (attempt["trigger"], attempt["who"], attempt["sessionTime"]) == (
        "api", "api", "2024-05-01T00:00:00+09:00")
    done = server.wait_done(attempt["id"])
    assert (done["status"], done["success"], done["done"]) == ("success", True, True)
    tasks = server.get(f"/api/attempts/{attempt['id']}/tasks")["tasks"]
    assert set(tasks[0]) == TASK_KEYS
    assert [(t["fullName"], t["state"]) for t in tasks] == [
        ("+hello", "success"), ("+hello+first", "success"), ("+hello+second", "success")]
    files = server.get(f"/api/logs/{attempt['id']}/files", task="+hello+first")["files"]
    assert [f["taskName"] for f in files] == ["+hello+first"]
    text = server.request("GET", f"/api/logs/{attempt['id']}/files/{files[0]['fileName']}")
    assert text.text == "first-line\n"
    assert text.headers["x-digpy-next-offset"] == str(len("first-line\n"))


def test_a_log_is_read_incrementally_from_an_offset(server: LiveServer, tmp_path: Path) -> None:
    project = server.push("offsets", write_project(tmp_path / "offsets", {
        "lines.dig": "+say:\n  sh>: printf 'one\\ntwo\\nthree\\n'\n"}))
    attempt = server.start(project["id"], "lines", "2024-05-01T00:00:00+00:00").json()
    server.wait_done(attempt["id"])
    path = f"/api/logs/{attempt['id']}/files/+lines+say.log"
    first = server.request("GET", path, query={"offset": 4})
    assert (first.text, first.headers["x-digpy-next-offset"]) == ("two\nthree\n", "14")
    rest = server.request("GET", path, query={"offset": 14})
    assert (rest.text, rest.headers["x-digpy-next-offset"]) == ("", "14")


def test_sessions_and_attempt_listings_show_the_run(server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "sessions")
    attempt = server.start(project["id"], "hello", "2024-06-01T00:00:00+09:00").json()
    server.wait_done(attempt["id"])
    sessions = server.get(f"/api/projects/{project['id']}/sessions")["sessions"]
    assert [s["id"] for s in sessions] == [attempt["sessionId"]]
    session = server.get(f"/api/sessions/{attempt['sessionId']}")
    assert session == sessions[0]
    assert session["lastAttempt"]["id"] == attempt["id"]
    assert session in server.get("/api/sessions")["sessions"]
    listed = server.get("/api/attempts", project="sessions")["attempts"]
    assert [a["id"] for a in listed] == [attempt["id"]]
    by_session = server.get(f"/api/sessions/{attempt['sessionId']}/attempts")["attempts"]
    assert [a["id"] for a in by_session] == [attempt["id"]]
    assert server.get("/api/attempts", project="no-such-project") == {"attempts": []}


def test_paging_returns_ids_below_last_id_newest_first(server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "paging")
    ids = [server.start(project["id"], "hello", f"2024-07-0{day}T00:00:00+09:00").json()["id"]
           for day in (1, 2, 3)]
    for attempt_id in ids:
        server.wait_done(attempt_id)
    page = server.get("/api/attempts", project="paging", page_size=2)["attempts"]
    assert [a["id"] for a in page] == [ids[2], ids[1]]
    rest = server.get("/api/attempts", project="paging", last_id=ids[1])["attempts"]
    assert [a["id"] for a in rest] == [ids[0]]


def test_starting_a_session_twice_answers_409_with_the_existing_attempt(
        server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "twice")
    first = server.start(project["id"], "hello", "2024-05-02T00:00:00+09:00").json()
    server.wait_done(first["id"])
    again = server.start(project["id"], "hello", "2024-05-02T00:00:00+09:00")
    assert again.status == 409
    assert again.json()["id"] == first["id"] and again.json()["status"] == 409
    assert "retryAttemptName" in again.json()["message"]


def test_unknown_ids_are_404_and_bad_input_is_400(server: LiveServer) -> None:
    for path in ("/api/projects/999", "/api/attempts/999", "/api/attempts/999/tasks",
                 "/api/sessions/999", "/api/workflows/999", "/api/schedules/999",
                 "/api/logs/999/files", "/api/no/such/endpoint"):
        answer = server.request("GET", path)
        assert answer.status == 404, path
        assert answer.json()["status"] == 404 and answer.json()["message"]
    for method, path, body in (
        ("GET", "/api/attempts/abc", None),
        ("GET", "/api/attempts?page_size=zero", None),
        ("PUT", "/api/attempts", {"workflowId": "1", "sessionTime": "yesterday"}),
        ("PUT", "/api/attempts", {"sessionTime": "2024-01-01T00:00:00+00:00"}),
        ("PUT", "/api/attempts", b"not json"),
    ):
        answer = server.request(method, path, body)
        assert answer.status == 400, (path, body)
        assert "Traceback" not in answer.text


def test_an_upload_with_a_broken_workflow_is_400_and_stores_nothing(
        server: LiveServer, tmp_path: Path) -> None:
    broken = write_project(tmp_path / "broken", {"bad.dig": "+a:\n  sh>: x\n+a:\n  sh>: y\n"})
    answer = server.request("PUT", "/api/projects", tar_gz(broken),
                            query={"project": "broken"}, content_type="application/gzip")
    assert answer.status == 400
    assert "bad.dig" in answer.json()["message"] and str(tmp_path) not in answer.text
    assert "/tmp" not in answer.json()["message"]
    assert server.get("/api/projects", name="broken") == {"projects": []}
    garbage = server.request("PUT", "/api/projects", b"not a tarball",
                             query={"project": "garbage"}, content_type="application/gzip")
    assert garbage.status == 400


def test_a_deleted_project_leaves_the_listing_but_keeps_its_sessions(
        server: LiveServer, tmp_path: Path) -> None:
    project = pushed(server, tmp_path, "deleted")
    attempt = server.start(project["id"], "hello", "2024-05-03T00:00:00+09:00").json()
    server.wait_done(attempt["id"])
    answer = server.request("DELETE", f"/api/projects/{project['id']}")
    assert answer.status == 200 and answer.json()["deletedAt"] is not None
    assert server.get("/api/projects", name="deleted") == {"projects": []}
    assert server.get(f"/api/sessions/{attempt['sessionId']}")["id"] == attempt["sessionId"]
    assert server.request("DELETE", f"/api/projects/{project['id']}").status == 404
    assert pushed(server, tmp_path, "deleted")["deletedAt"] is None  # a push brings it back


def test_the_openapi_document_lists_every_served_path(server: LiveServer) -> None:
    document = server.get("/api/openapi.json")
    assert document["openapi"].startswith("3.")
    assert {"/api/attempts", "/api/attempts/{id}/kill", "/api/projects/{id}/secrets/{key}",
            "/api/logs/{attempt_id}/files/{file}", "/metrics"} <= set(document["paths"])
    assert set(document["paths"]["/api/attempts"]) == {"get", "put"}
    assert server.get("/api/version") == {"version": document["info"]["version"]}
