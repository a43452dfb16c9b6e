"""HTTP behaviour: keep-alive, error bodies, methods and limits."""
import json
import socket

import pytest

from harness import Scalecache


@pytest.fixture(scope="module")
def sc():
    with Scalecache(redis_url="", origin_delay_ms=0,
                    env={"SCALECACHE_CACHE_MAX_KEY_BYTES": "16"}) as server:
        yield server


def raw_exchange(port, payload: bytes, responses: int) -> list[bytes]:
    """Sends `payload` on one connection and reads `responses` whole responses."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        buf = b""
        while len(out) < responses:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, f"connection closed after {len(out)} responses"
                buf += chunk
            head, _, rest = buf.partition(b"\r\n\r\n")
            length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")).split(b":")[1])
            while len(rest) < length:
                rest += s.recv(65536)
            out.append(head + b"\r\n\r\n" + rest[:length])
            buf = rest[length:]
    return out


def test_connection_reused_without_connection_header(sc):
    with socket.create_connection(("127.0.0.1", sc.port), timeout=5) as s:
        for i in range(2):
            s.sendall(f"GET /data/ka{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            data = b""
            while b"}" not in data:
                chunk = s.recv(65536)
                assert chunk, f"server closed the connection after request {i}"
                data += chunk
            assert data.startswith(b"HTTP/1.1 200")
            assert b"Connection: Keep-Alive" in data or b"connection: keep-alive" in data.lower()


def test_connection_close_is_honoured(sc):
    with socket.create_connection(("127.0.0.1", sc.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200") and b"close" in data.lower()


@pytest.mark.parametrize("path,status,error", [
    ("/data/", 400, "invalid_key"),
    ("/data/%zz", 400, "invalid_key"),
    ("/data/a%00b", 400, "invalid_key"),
    ("/data/a%1Fb", 400, "invalid_key"),
    ("/data/%FF%FE", 400, "invalid_key"),
    ("/data/" + "k" * 17, 414, "key_too_long"),
    ("/nope", 404, "no_route"),
])
def test_bad_requests_get_json_errors(sc, path, status, error):
    got, body, headers = sc.get(path)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff"
    parsed = json.loads(body)
    assert parsed["error"] == error and parsed["detail"]


def test_key_at_limit_is_fine_and_traversal_is_just_a_key(sc):
    assert sc.get("/data/" + "k" * 16)[0] == 200
    status, body = sc.get_json("/data/..%2F..%2Fetc%2Fpasswd")
    assert status == 200 and body["key"] == "../../etc/passwd"


def test_unknown_method_gets_405_with_allow(sc):
    status, body, headers = sc.request("PUT", "/data/x")
    assert status == 405 and headers["allow"] == "GET, HEAD, DELETE"
    assert json.loads(body)["error"] == "method_not_allowed"
    assert sc.request("POST", "/healthz")[2]["allow"] == "GET, HEAD"


def test_health_ready_metrics(sc):
    assert sc.get_json("/healthz") == (200, {"status": "ok"})
    assert sc.get_json("/readyz") == (200, {"status": "ready"})
    status, text, headers = sc.get("/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    for name in ["scalecache_http_requests_total", "scalecache_http_request_duration_seconds_bucket",
                 "scalecache_cache_results_total", "scalecache_origin_requests_total",
                 "scalecache_coalesced_requests_total", "scalecache_l1_entries", "scalecache_l1_bytes",
                 "scalecache_redis_up", "process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_start_time_seconds"]:
        assert f"\n{name}" in text, name


def test_garbage_is_rejected_and_server_keeps_serving(sc):
    """Bytes that are not HTTP get a 400 or a close, never an answer served as a request."""
    with socket.create_connection(("127.0.0.1", sc.port), timeout=5) as s:
        s.sendall(b"\x00\x01\x02 not http at all\r\n\r\n")
        answer = b""
        try:
            while b"\r\n" not in answer:  # the status line, or the close
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass  # a reset is a close too
    status_line = answer.split(b"\r\n", 1)[0]
    assert answer == b"" or status_line.split()[1:2] == [b"400"], f"garbage was answered with {status_line!r}"
    assert sc.get("/healthz")[0] == 200
