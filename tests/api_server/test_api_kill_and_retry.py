"""Kill and retry through the REST API on a live daemon: a kill stops a running attempt
(409 once done), a retry resumes from a task or from the failures, reusing what succeeded."""

from __future__ import annotations

from pathlib import Path

from api_helpers import write_project
from live_server import LiveServer, wait_for

SESSION = "2024-05-01T00:00:00+00:00"


def ledger(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def flaky_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    out, marker = tmp_path / "ledger.txt", tmp_path / "fixed"
    root = write_project(tmp_path / "flaky", {"flaky.dig": f"""
+a:
  sh>: echo a >> {out}
+b:
  sh>: test -f {marker} && echo b >> {out}
+c:
  sh>: echo c >> {out}
"""})
    return root, out, marker


def failed_attempt(server: LiveServer, tmp_path: Path, name: str) -> tuple[dict, Path, Path]:
    root, out, marker = flaky_project(tmp_path)
    project = server.push(name, root)
    attempt = server.start(project["id"], "flaky", SESSION).json()
    done = server.wait_done(attempt["id"])
    assert done["status"] == "error" and done["error"]
    return done, out, marker


def retry(server: LiveServer, old: dict, name: str, resume: dict | None) -> object:
    return server.request("PUT", "/api/attempts", {
        "workflowId": old["workflow"]["id"], "sessionTime": old["sessionTime"],
        "retryAttemptName": name, "params": old["params"], "resume": resume})


def test_a_kill_stops_a_running_attempt_and_a_second_kill_is_409(
        server: LiveServer, tmp_path: Path) -> None:
    started = tmp_path / "started"
    project = server.push("sleepy", write_project(tmp_path / "sleepy", {
        "sleepy.dig": f"+nap:\n  sh>: touch {started}; sleep 60\n+after:\n  echo>: never\n"}))
    attempt = server.start(project["id"], "sleepy", SESSION).json()
    wait_for(started.exists, 60, "the task to start")
    answer = server.request("POST", f"/api/attempts/{attempt['id']}/kill")
    assert (answer.status, answer.json()) == (200, {})
    done = server.wait_done(attempt["id"])
    assert (done["status"], done["cancelRequested"]) == ("killed", True)
    tasks = {t["fullName"]: t["state"]
             for t in server.get(f"/api/attempts/{attempt['id']}/tasks")["tasks"]}
    assert tasks["+sleepy+after"] != "success"
    again = server.request("POST", f"/api/attempts/{attempt['id']}/kill")
    assert again.status == 409 and again.json()["id"] == attempt["id"]
    assert server.request("POST", "/api/attempts/9999/kill").status == 404


def test_a_retry_resuming_from_a_task_reruns_it_and_what_follows_only(
        server: LiveServer, tmp_path: Path) -> None:
    old, out, marker = failed_attempt(server, tmp_path, "resume-from")
    marker.touch()
    answer = retry(server, old, "fix1", {"mode": "from", "attemptId": old["id"], "from": "+b"})
    assert answer.status == 200, answer.body
    new = answer.json()
    assert (new["retryAttemptName"], new["trigger"], new["sessionId"]) == (
        "fix1", "retry", old["sessionId"])
    assert server.wait_done(new["id"])["status"] == "success"
    assert ledger(out) == ["a", "b", "c"]  # +a ran once, in the first attempt
    retries = server.get(f"/api/attempts/{new['id']}/retries")["attempts"]
    assert [a["id"] for a in retries] == [new["id"], old["id"]]


def test_a_retry_of_the_failures_reuses_every_successful_task(
        server: LiveServer, tmp_path: Path) -> None:
    old, out, marker = failed_attempt(server, tmp_path, "resume-failed")
    marker.touch()
    answer = retry(server, old, "fix2", {"mode": "failed", "attemptId": old["id"]})
    assert answer.status == 200, answer.body
    assert server.wait_done(answer.json()["id"])["status"] == "success"
    assert ledger(out) == ["a", "b", "c"]
    again = retry(server, answer.json(), "fix3",
                  {"mode": "failed", "attemptId": answer.json()["id"]})
    assert again.status == 409  # it succeeded: nothing failed to resume


def test_a_retry_name_already_used_in_the_session_is_409(
        server: LiveServer, tmp_path: Path) -> None:
    old, _, marker = failed_attempt(server, tmp_path, "taken")
    marker.touch()
    first = retry(server, old, "same", None).json()
    server.wait_done(first["id"])
    taken = retry(server, old, "same", None)
    assert taken.status == 409 and taken.json()["id"] == first["id"]


def test_a_retry_while_the_session_runs_is_409_with_the_running_attempt(
        server: LiveServer, tmp_path: Path) -> None:
    started = tmp_path / "started"
    project = server.push("busy", write_project(tmp_path / "busy", {
        "busy.dig": f"+nap:\n  sh>: touch {started}; sleep 60\n"}))
    running = server.start(project["id"], "busy", SESSION).json()
    wait_for(started.exists, 60, "the task to start")
    answer = retry(server, running, "early", {"mode": "failed", "attemptId": running["id"]})
    assert answer.status == 409 and answer.json()["id"] == running["id"]
    plain = retry(server, running, "early", None)
    assert plain.status == 409 and plain.json()["id"] == running["id"]
    server.request("POST", f"/api/attempts/{running['id']}/kill")
    server.wait_done(running["id"])


def test_resuming_from_a_task_that_matches_nothing_is_400(
        server: LiveServer, tmp_path: Path) -> None:
    old, _, _ = failed_attempt(server, tmp_path, "no-task")
    answer = retry(server, old, "x", {"mode": "from", "attemptId": old["id"], "from": "+zzz"})
    assert answer.status == 400 and "+zzz" in answer.json()["message"]
