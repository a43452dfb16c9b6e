"""Hostile requests from corpus/ (raw bytes), each on its own connection.

For each file: every answer has an allowed status (expectations.yaml), a 4xx
answer is a JSON error {"error","detail"} with nosniff, nothing forbidden is
echoed, and the exchange ends (an answer, or a clean close) instead of
hanging. After each file /healthz still answers on a new connection, and at
the end the process is alive and exits 0 on SIGTERM.

A refusal that must end the connection ("ends: close") is checked to close it.
A known defect (xfail) covers only a wrong answer: status, headers or body,
raised as WrongAnswer. A crash, a hang, an answer to a smuggled request or a
sanitizer report raise anything else and fail the test whatever its marker.
"""
import http.client
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from faultlib import SANITIZER, Scalecache, assert_clean_exit, raw_exchange

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
EXPECTATIONS = yaml.safe_load((HERE / "expectations.yaml").read_text())
ADMIN_TOKEN = "hostile-admin-token"
HEADER_TIMEOUT_MS = 1000

# Known defects, by id (docs/RELIABILITY.md): a file with "defect" is a strict
# xfail citing it. None is open today: D2, D3 and D6-D10 were fixed by the
# connection layer (src/http/connection_transport.cpp, request_framing.cpp).
DEFECTS: dict[str, str] = {}


class WrongAnswer(AssertionError):
    """A wrong status, header or body: the only failure a known defect's xfail accepts."""


def expect(condition, message: str):
    if not condition:
        raise WrongAnswer(message)


def cases():
    files = sorted(p.name for p in CORPUS.glob("*.http"))
    assert files == sorted(EXPECTATIONS), "corpus/ and expectations.yaml disagree: run make_corpus.py"
    for name in files:
        exp = EXPECTATIONS[name]
        marks = ([pytest.mark.xfail(strict=True, raises=WrongAnswer, reason=DEFECTS[exp["defect"]])]
                 if "defect" in exp else [])
        if SANITIZER and "sanitizers" in exp:
            marks = [pytest.mark.skip(reason=exp["sanitizers"])]
        yield pytest.param(name, exp, id=name.removesuffix(".http"), marks=marks)


@pytest.fixture(scope="module")
def sc():
    env = {"SCALECACHE_ADMIN_TOKEN": ADMIN_TOKEN,
           "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
           # a miss must fit in the request's time (--check-config refuses more)
           "SCALECACHE_CACHE_LEASE_WAIT_MS": "400", "SCALECACHE_ORIGIN_TIMEOUT_MS": "600"}
    with Scalecache(origin_delay_ms=0, env=env) as server:
        yield server


def check_answer(resp, exp: dict, name: str):
    allowed = exp["expect"]
    ok = resp.status in allowed or ("4xx" in allowed and 400 <= resp.status < 500)
    expect(ok, f"{name}: status {resp.status}, expected one of {allowed}; body {resp.body[:200]!r}")
    expect(resp.headers.get("x-content-type-options") == "nosniff", f"{name}: {resp.headers}")
    if 400 <= resp.status < 500:
        expect(resp.headers.get("content-type", "").startswith("application/json"),
               f"{name}: {resp.status} is not a JSON error: {resp.headers} {resp.body[:200]!r}")
        try:
            body = json.loads(resp.body)
        except ValueError:
            raise WrongAnswer(f"{name}: {resp.status} body is not JSON: {resp.body[:200]!r}") from None
        expect(body.get("error") and body.get("detail"), f"{name}: {body}")
        if "error" in exp:
            expect(body["error"] == exp["error"], f"{name}: {body}")
    if resp.status == 405 and "allow" in exp:
        expect(resp.headers.get("allow") == exp["allow"], f"{name}: {resp.headers}")


def check_not_smuggled(responses, ended: str, key: str, name: str):
    """No answer on the connection answers the request hidden in the bytes.

    Called with every answer the connection gave until it closed or went idle.
    Not a WrongAnswer: no known defect excuses it.
    """
    for i, resp in enumerate(responses):
        assert key.encode() not in resp.body and key not in str(resp.headers), \
            f"{name}: answer {i + 1} of {len(responses)} answers the smuggled request {key!r}: {resp.body[:200]!r}"
    assert len(responses) <= 1, \
        f"{name}: {len(responses)} answers to one request (the smuggled one was answered), then {ended}"


@pytest.mark.parametrize("name,exp", list(cases()))
def test_hostile_request(sc, name, exp):
    payload = (CORPUS / name).read_bytes()
    wanted = exp.get("responses", 1)
    # With a smuggled request, read all the connection yields, not only the first answer.
    # With "ends: close", one more than expected, so that the close (or an extra answer) is seen.
    limit = 10 if "smuggled" in exp else wanted + (exp.get("ends") == "close")
    try:
        responses, ended = raw_exchange(sc.port, payload, limit=limit, timeout=HEADER_TIMEOUT_MS / 1000 + 3)
        if "smuggled" in exp:
            check_not_smuggled(responses, ended, exp["smuggled"], name)
        for resp in responses:
            check_answer(resp, exp, name)
            if "forbid" in exp:
                expect(exp["forbid"].encode() not in resp.body, f"{name}: answer contains {exp['forbid']!r}")
        if exp.get("ends") == "close":
            expect(ended == "close", f"{name}: the connection was left {ended} after {len(responses)} answers")
        if wanted > 1:
            expect(len(responses) == wanted, f"{name}: {len(responses)} answers to {wanted} requests, then {ended}")
        elif not responses:
            expect("close" in exp["expect"], f"{name}: no answer, connection {ended}")
            expect(ended == "close", f"{name}: no answer and the connection was left open")
    finally:
        # Runs after a WrongAnswer too: its pytest.fail replaces the WrongAnswer, so a
        # crash or a hang is never taken for the known defect.
        check_survived(sc, name)


def check_survived(sc, name: str):
    """/healthz answers on a new connection; else the test fails as a crash or a hang
    (not a WrongAnswer), after a fresh server is started for the next files."""
    try:
        if sc.get("/healthz", timeout=5)[0] == 200:
            return
        problem = "/healthz did not answer 200"
    except (OSError, http.client.HTTPException) as e:
        problem = f"/healthz failed: {e!r}"
    try:  # a crashing process may still be writing its report: wait for it to end
        sc.proc.wait(10)
        what = f"died (exit {sc.proc.returncode})"
    except subprocess.TimeoutExpired:
        what = "hung (still running)"
    restart_after_crash(sc, name, f"{what}; {problem}")


def restart_after_crash(sc, name: str, what: str):
    """Fails the test that killed or hung the server, after starting a fresh one for the next files.

    The crash (and, under the sanitizer plugin, its report) is charged to this
    test only; the log is emptied so nothing is charged again at the end.
    """
    log = sc.log()
    try:
        sc.stop()  # under tests/sanitizers/sanitizer_check.py, its report fails this test too
    finally:
        sc.log_path.write_text("")
        sc.start()
    pytest.fail(f"scalecache {what} after {name}:\n{log[-3000:]}")


def test_still_serving_and_clean_exit(sc):
    status, body = sc.get_json("/data/after-the-corpus")
    assert status == 200 and body["key"] == "after-the-corpus"
    assert_clean_exit(sc)
