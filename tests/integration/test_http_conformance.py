"""HTTP/1.1 conformance (RFC 9110, 9111, 9112) against a real server and Redis.

Each test reads the raw bytes on one connection, so what is checked is what a
client gets: Date on every answer, HEAD, 304, pipelining in order, request
framing errors (conflicting lengths, oversize line and headers, bad syntax)
answered as JSON and followed by a close, and the header timeout's 408.
"""
import email.utils
import json
import re
import socket
import time
from dataclasses import dataclass

import pytest

from harness import Scalecache

HEADER_TIMEOUT_MS = 600
IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"\d{4} \d\d:\d\d:\d\d GMT$")


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class Conn:
    """One raw connection: send bytes, read answers exactly as framed by RFC 9112 §6.3."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def read(self, head_request: bool = False) -> Answer:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), f"connection closed before a complete answer: {self.buf[:200]!r}"
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        bodiless = head_request or status in (204, 304) or status < 200
        length = 0 if bodiless else int(headers["content-length"][0])
        while len(self.buf) < length:
            assert self._fill(), "connection closed inside a body"
        body, self.buf = self.buf[:length], self.buf[length:]
        return Answer(status, headers, body)

    def closed(self) -> bool:
        """True when the server closed the connection with nothing more to read."""
        if self.buf:
            return False
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True


def get(path: str, extra: str = "", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode()


@pytest.fixture(scope="module")
def sc():
    from harness import RedisServer
    with RedisServer() as redis, Scalecache(redis_url=redis.url, origin_delay_ms=20,
                                            env={"SCALECACHE_SERVER_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
                                                 "SCALECACHE_CACHE_LEASE_WAIT_MS": "200",
                                                 "SCALECACHE_ORIGIN_TIMEOUT_MS": "300"}) as server:
        yield server


def assert_json_error(a: Answer, status: int, error: str | None = None):
    assert a.status == status, (a.status, a.body)
    assert a.header("content-type") == "application/json"
    assert a.header("x-content-type-options") == "nosniff"
    body = json.loads(a.body)
    assert body["detail"], body
    if error:
        assert body["error"] == error, body


def assert_date(a: Answer):
    date = a.header("date")
    assert date and IMF_FIXDATE.match(date), f"Date {date!r} is not an IMF-fixdate (RFC 9110 5.6.7)"
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time()) < 5


@pytest.mark.parametrize("request_bytes,status", [
    (get("/data/date-miss"), 200),
    (get("/healthz"), 200),
    (get("/readyz"), 200),
    (get("/metrics"), 200),
    (get("/nope"), 404),
    (get("/data/%zz"), 400),
    (get("/data/x", method="PUT"), 405),
    (get("/data/x", "Content-Length: 1\r\nContent-Length: 2\r\n"), 400),
    (b"BREW /data/x HTTP/1.1\r\nHost: t\r\n\r\n", 501),
])
def test_every_answer_carries_date(sc, request_bytes, status):
    with Conn(sc.port) as c:
        c.send(request_bytes)
        a = c.read()
    assert a.status == status
    assert_date(a)


@pytest.mark.parametrize("path", ["/data/head-key", "/healthz", "/readyz", "/metrics", "/nope", "/data/%zz"])
def test_head_is_get_without_the_body(sc, path):
    with Conn(sc.port) as c:
        c.send(get(path))  # fills the cache for /data/: the HEAD below is the same kind of answer
        c.read()
        c.send(get(path, method="HEAD") + get(path))
        head = c.read(head_request=True)
        full = c.read()  # parses only if the HEAD answer carried no body bytes
    assert head.status == full.status
    assert set(head.headers) == set(full.headers)
    for name in ("content-type", "etag", "cache-control", "connection"):
        assert head.header(name) == full.header(name), name
    if path != "/metrics":  # its counters move between the two answers
        assert int(head.header("content-length")) == len(full.body) > 0
    assert int(head.header("content-length")) > 0
    assert head.body == b""


def test_not_modified_carries_validators_and_no_length(sc):
    with Conn(sc.port) as c:
        c.send(get("/data/etag-key"))
        first = c.read()
        etag = first.header("etag")
        assert first.status == 200 and etag
        c.send(get("/data/etag-key", f"If-None-Match: {etag}\r\n") + get("/healthz"))
        nm = c.read()
        after = c.read()  # the 304 had no body: the next answer follows at once
    assert nm.status == 304
    assert nm.header("etag") == etag
    assert nm.header("cache-control") and nm.header("age") is not None
    assert_date(nm)
    assert "content-length" not in nm.headers and "content-type" not in nm.headers
    assert after.status == 200 and json.loads(after.body) == {"status": "ok"}


def test_pipelined_requests_are_all_answered_in_order(sc):
    """Misses (answered from a pool thread) and immediate answers, in one write (D6)."""
    paths = ["/data/pipe-a", "/healthz", "/data/pipe-b", "/data/pipe-a", "/nope", "/data/pipe-c"]
    with Conn(sc.port) as c:
        c.send(b"".join(get(p) for p in paths))
        answers = [c.read() for _ in paths]
        c.send(get("/healthz"))  # still open and in step
        assert c.read().status == 200
    assert [a.status for a in answers] == [200, 200, 200, 200, 404, 200]
    keys = [json.loads(a.body).get("key") for a in answers]
    assert keys == ["pipe-a", None, "pipe-b", "pipe-a", None, "pipe-c"]


def test_pipelined_request_split_across_writes(sc):
    with Conn(sc.port) as c:
        whole = get("/data/split-1") + get("/data/split-2")
        c.send(whole[:10])
        c.send(whole[10:50])
        c.send(whole[50:])
        assert [json.loads(c.read().body)["key"] for _ in range(2)] == ["split-1", "split-2"]


@pytest.mark.parametrize("extra", [
    "Content-Length: 5\r\nContent-Length: 6\r\n",
    "Content-Length: 5, 6\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
])
def test_ambiguous_framing_is_refused_and_closed(sc, extra):
    """RFC 9112 §6.3: conflicting lengths, or both framings, are a 400 and the end of the connection (D10)."""
    with Conn(sc.port) as c:
        c.send(get("/data/smuggle", extra) + b"12345" + get("/data/smuggled-after"))
        a = c.read()
        assert_json_error(a, 400, "bad_request")
        assert a.header("connection") == "close"
        assert c.closed()


def test_agreeing_content_lengths_are_one_length(sc):
    with Conn(sc.port) as c:
        c.send(get("/data/cl-ok", "Content-Length: 3, 3\r\n") + b"abc" + get("/healthz"))
        assert c.read().status == 200
        assert c.read().status == 200


@pytest.mark.parametrize("request_bytes,status,error", [
    (b"GET /data/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, "uri_too_long"),
    (b"GET /data/h HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"GET /data/b HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"z" * 100000, 413, "body_too_large"),
    (b"GET /data/b HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n", 413, "body_too_large"),
    (b"GET /data/b HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400, "bad_request"),
])
def test_oversize_requests_get_one_json_error_then_close(sc, request_bytes, status, error):
    """D2, D3, D7: one JSON answer, whatever the size, then the connection ends."""
    with Conn(sc.port) as c:
        try:
            c.send(request_bytes)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before everything was sent
        assert_json_error(c.read(), status, error)
        assert c.closed()


@pytest.mark.parametrize("request_bytes,status,error", [
    (b"hello there, this is not http\r\n\r\n", 400, "bad_request"),
    (b"GET /data/a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, "bad_request"),
    (b"GET /data/x HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", 400, "bad_request"),
    (b"GET /data/x HTTP/1.1\r\nHost: t\r\nX-A: a\r\n folded\r\n\r\n", 400, "bad_request"),
    (b"GET /healthz HTTP/1.1\nHost: t\n\n", 400, "bad_request"),
    (b"BREW /data/x HTTP/1.1\r\nHost: t\r\n\r\n", 501, "not_implemented"),
    (b"GET /data/x HTTP/9.9\r\nHost: t\r\n\r\n", 505, "http_version_not_supported"),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400, "bad_request"),
    (b"GET /data/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad_request"),
])
def test_parser_errors_are_json_and_close(sc, request_bytes, status, error):
    """D8: what the parser refuses is answered as JSON at once, and the connection ends."""
    with Conn(sc.port) as c:
        c.send(request_bytes)
        assert_json_error(c.read(), status, error)
        assert c.closed()


def test_chunked_request_body_is_framed(sc):
    with Conn(sc.port) as c:
        c.send(get("/data/chunked", "Transfer-Encoding: chunked\r\n") + b"3\r\nabc\r\n0\r\n\r\n" + get("/healthz"))
        assert json.loads(c.read().body)["key"] == "chunked"
        assert c.read().status == 200


def test_header_timeout_answers_408_with_a_json_body(sc):
    """D9: an unfinished request is answered 408 with the JSON error after server.header_timeout_ms, then closed."""
    with Conn(sc.port) as c:
        c.send(b"GET /data/slow HTTP/1.1\r\nHost: t\r\n")
        started = time.monotonic()
        a = c.read()
        took = time.monotonic() - started
        assert_json_error(a, 408, "request_timeout")
        assert c.closed()
    assert HEADER_TIMEOUT_MS / 1000 <= took < HEADER_TIMEOUT_MS / 1000 + 1.0, took


def test_idle_keep_alive_connection_is_not_cut_at_the_header_timeout(sc):
    """Between requests a connection is idle, not late: only the keep-alive timeout applies."""
    with Conn(sc.port) as c:
        c.send(get("/healthz"))
        assert c.read().status == 200
        c.sock.settimeout(HEADER_TIMEOUT_MS / 1000 * 2.5)
        with pytest.raises(TimeoutError):
            c.sock.recv(1)  # nothing comes, not even a 408
        c.sock.settimeout(5)
        c.send(get("/healthz"))
        assert c.read().status == 200
