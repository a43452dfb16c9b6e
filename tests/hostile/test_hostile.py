"""Hostile requests from corpus/ (raw bytes), each on its own connection.

For each file: every answer has an allowed status (expectations.yaml), a 4xx
answer is a JSON error {"error","detail"} with nosniff, nothing forbidden is
echoed, and the exchange ends (an answer, or a clean close) instead of
hanging. After each file /healthz still answers on a new connection, and at
the end the process is alive and exits 0 on SIGTERM.
"""
import json
from pathlib import Path

import pytest
import yaml

from faultlib import SANITIZER, Scalecache, alive, assert_clean_exit, raw_exchange

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
EXPECTATIONS = yaml.safe_load((HERE / "expectations.yaml").read_text())
ADMIN_TOKEN = "hostile-admin-token"
HEADER_TIMEOUT_MS = 1000

DEFECTS = {
    "D2": "service defect D2 (docs/RELIABILITY.md): a request line or headers beyond server.max_request_bytes "
          "get Pistache's own 413 text/plain answer instead of 414/431 with a JSON error",
    "D3": "service defect D3 (docs/RELIABILITY.md): an oversized body gets Pistache's own 413 in text/plain, "
          "not a JSON error",
    "D6": "service defect D6 (docs/RELIABILITY.md): Pistache 0.0.5 answers only the first of pipelined "
          "requests and leaves the connection open: the client waits forever for the rest",
    "D7": "service defect D7 (docs/RELIABILITY.md): Pistache reserves Content-Length bytes up front: 1e9 costs "
          "1 GB of address space per connection, 1e11 answers 500 'std::bad_alloc', -1 answers 500 "
          "'basic_string::_M_create' (exception text leaked)",
    "D8": "service defect D8 (docs/RELIABILITY.md): requests Pistache's parser rejects get a text/plain 400 "
          "without Content-Type or nosniff, and the connection is left open",
    "D9": "service defect D9 (docs/RELIABILITY.md): the header timeout answers 408 with an empty body, "
          "no JSON error and no nosniff (RequestRouter::onTimeout is not what answers)",
    "D10": "service defect D10 (docs/RELIABILITY.md): two conflicting Content-Length headers are accepted "
           "(RFC 9112 6.3 requires 400): a request-smuggling vector behind proxies that pick the other one",
}


def cases():
    files = sorted(p.name for p in CORPUS.glob("*.http"))
    assert files == sorted(EXPECTATIONS), "corpus/ and expectations.yaml disagree: run make_corpus.py"
    for name in files:
        exp = EXPECTATIONS[name]
        marks = [pytest.mark.xfail(strict=True, reason=DEFECTS[exp["defect"]])] if "defect" in exp else []
        if SANITIZER and "sanitizers" in exp:
            marks = [pytest.mark.skip(reason=exp["sanitizers"])]
        yield pytest.param(name, exp, id=name.removesuffix(".http"), marks=marks)


@pytest.fixture(scope="module")
def sc():
    env = {"SCALECACHE_ADMIN_TOKEN": ADMIN_TOKEN,
           "SCALECACHE_SERVER_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS)}
    with Scalecache(origin_delay_ms=0, env=env) as server:
        yield server


def check_answer(resp, exp: dict, name: str):
    allowed = exp["expect"]
    ok = resp.status in allowed or ("4xx" in allowed and 400 <= resp.status < 500)
    assert ok, f"{name}: status {resp.status}, expected one of {allowed}; body {resp.body[:200]!r}"
    assert resp.headers.get("x-content-type-options") == "nosniff", f"{name}: {resp.headers}"
    if 400 <= resp.status < 500:
        assert resp.headers.get("content-type", "").startswith("application/json"), \
            f"{name}: {resp.status} is not a JSON error: {resp.headers} {resp.body[:200]!r}"
        body = json.loads(resp.body)
        assert body.get("error") and body.get("detail"), body
        if "error" in exp:
            assert body["error"] == exp["error"], body
    if resp.status == 405 and "allow" in exp:
        assert resp.headers.get("allow") == exp["allow"], resp.headers


@pytest.mark.parametrize("name,exp", list(cases()))
def test_hostile_request(sc, name, exp):
    payload = (CORPUS / name).read_bytes()
    wanted = exp.get("responses", 1)
    try:
        responses, ended = raw_exchange(sc.port, payload, limit=wanted, timeout=HEADER_TIMEOUT_MS / 1000 + 3)
        for resp in responses:
            check_answer(resp, exp, name)
            if "forbid" in exp:
                assert exp["forbid"].encode() not in resp.body, f"{name}: answer contains {exp['forbid']!r}"
        if wanted > 1:
            assert len(responses) == wanted, f"{name}: {len(responses)} answers to {wanted} requests, then {ended}"
        elif not responses:
            assert "close" in exp["expect"], f"{name}: no answer, connection {ended}"
            assert ended == "close", f"{name}: no answer and the connection was left open"
    finally:
        if not alive(sc):
            restart_after_crash(sc, name)
    assert sc.get("/healthz", timeout=5)[0] == 200, f"/healthz failed after {name}"


def restart_after_crash(sc, name: str):
    """Fails the test that killed the server, after starting a fresh one for the next files.

    The crash (and, under the sanitizer plugin, its report) is charged to this
    test only; the log is emptied so nothing is charged again at the end.
    """
    log = sc.log()
    try:
        sc.stop()  # under tests/sanitizers/sanitizer_check.py, its report fails this test too
    finally:
        sc.log_path.write_text("")
        sc.start()
    pytest.fail(f"scalecache died on {name}:\n{log[-3000:]}")


def test_still_serving_and_clean_exit(sc):
    status, body = sc.get_json("/data/after-the-corpus")
    assert status == 200 and body["key"] == "after-the-corpus"
    assert_clean_exit(sc)
