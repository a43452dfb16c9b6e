#!/usr/bin/env python3
"""Writes the hostile request corpus (corpus/*.http, raw bytes, one request or
byte stream per file) and its expectations table (expectations.yaml).

The files are committed; run this again only after changing the list below:
    python3 tests/hostile/make_corpus.py

Expectation fields (see test_hostile.py):
  expect     statuses allowed for every response: numbers, "4xx", and "close"
             (the server closes without answering)
  error      the JSON "error" code a 4xx answer must carry
  responses  how many answers the bytes must produce (default: at most 1)
  ends       "close": the server closes the connection after its answer
  allow      the Allow header a 405 must carry
  forbid     a byte string no answer may contain
  smuggled   the key of a request hidden in the bytes (a body, or after a
             chunked end the Content-Length covers): every answer on the
             connection is read and none may answer that request
  defect     set when the service misbehaves today: the test is then an
             xfail(strict) citing the defect, listed in docs/RELIABILITY.md
  sanitizers why the file is skipped against a sanitizer build
"""
import random
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
H = b"Host: hostile\r\n"


def get(target: bytes, headers: bytes = H, version: bytes = b"HTTP/1.1", method: bytes = b"GET") -> bytes:
    return method + b" " + target + b" " + version + b"\r\n" + headers + b"\r\n"


rng = random.Random(8)
# A key no other file uses: an answer carrying it can only answer the hidden request.
SMUGGLED_KEY = "smuggled-7e1c"
smuggled = get(b"/data/" + SMUGGLED_KEY.encode())
CORPUS = [
    # --- keys and URLs
    ("key_at_limit", get(b"/data/" + b"k" * 512), {"expect": [200], "what": "boundary: a 512-byte key is fine"}),
    ("key_too_long", get(b"/data/" + b"k" * 600), {"expect": [414], "error": "key_too_long"}),
    ("url_very_long", get(b"/data/" + b"a" * 12000), {"expect": [414], "error": "key_too_long",
                                                      "what": "12 KB URL, within max_request_bytes"}),
    ("url_over_request_limit", get(b"/data/" + b"a" * 20000),
     {"expect": [414], "error": "uri_too_long", "ends": "close", "what": "20 KB request line, beyond max_request_bytes (16 KiB)"}),
    ("bad_percent_truncated", get(b"/data/abc%"), {"expect": [400], "error": "invalid_key"}),
    ("bad_percent_nonhex", get(b"/data/%zz"), {"expect": [400], "error": "invalid_key"}),
    ("percent_nul", get(b"/data/a%00b"), {"expect": [400], "error": "invalid_key"}),
    ("percent_control", get(b"/data/a%1b%7f"), {"expect": [400], "error": "invalid_key"}),
    ("invalid_utf8_overlong", get(b"/data/%C0%AF%C0%AE"), {"expect": [400], "error": "invalid_key"}),
    ("raw_high_bytes", get(b"/data/\xff\xfe\x80"), {"expect": [400, "close"]}),
    ("raw_nul_in_path", get(b"/data/a\x00b"), {"expect": [400, "close"]}),
    ("raw_control_in_path", get(b"/data/a\x01\x7fb"), {"expect": [400, "close"]}),
    ("raw_space_in_path", b"GET /data/a b HTTP/1.1\r\n" + H + b"\r\n", {"expect": [400], "ends": "close"}),
    ("traversal_encoded", get(b"/data/..%2F..%2Fetc%2Fpasswd"),
     {"expect": [200], "forbid": "root:", "what": "just a key: nothing is read from disk"}),
    ("traversal_raw", get(b"/data/../../etc/passwd"), {"expect": [200, 400, 404], "forbid": "root:"}),
    ("traversal_outside_data", get(b"/../../etc/passwd"), {"expect": [400, 404], "forbid": "root:"}),
    ("traversal_overlong_dots", get(b"/data/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd"),
     {"expect": [400], "error": "invalid_key"}),
    ("double_encoding", get(b"/data/%252e%252e%252f"), {"expect": [200], "forbid": "root:"}),
    ("query_with_bad_escape", get(b"/data/q?debug=1&a=%zz"), {"expect": [200, 400]}),
    ("absolute_form_uri", get(b"http://evil.example/data/x"), {"expect": [200, 400, 404]}),
    # --- headers
    ("header_huge_single", get(b"/data/h", H + b"X-Big: " + b"b" * 20000 + b"\r\n"),
     {"expect": [431], "error": "headers_too_large", "ends": "close", "what": "one 20 KB header"}),
    ("headers_many", get(b"/data/h", H + b"".join(b"X-H%03d: %s\r\n" % (i, b"v" * 50) for i in range(300))),
     {"expect": [431], "error": "headers_too_large", "ends": "close", "what": "300 headers, 18 KB"}),
    ("header_space_before_colon", get(b"/data/h", H + b"X-Bad : 1\r\n"), {"expect": [200, 400],
     "what": "RFC 9112 5.1 says 400; serving it is harmless here (no proxy behind)"}),
    ("header_without_colon", get(b"/data/h", H + b"NoColonHere\r\n"), {"expect": [400], "ends": "close"}),
    ("header_obs_fold", get(b"/data/h", H + b"X-A: a\r\n folded\r\n"), {"expect": [400], "ends": "close", "what": "RFC 9112 5.2: obs-fold outside message/http is refused"}),
    ("header_nul_value", get(b"/data/h", H + b"X-N: a\x00b\r\n"), {"expect": [400], "ends": "close"}),
    ("bare_lf_line_endings", b"GET /healthz HTTP/1.1\nHost: x\n\n", {"expect": [400], "ends": "close"}),
    ("leading_empty_lines", b"\r\n\r\n" + get(b"/healthz"), {"expect": [200], "what": "RFC 9112 2.2: empty lines before the request line are ignored"}),
    ("incomplete_headers", b"GET /data/x HTTP/1.1\r\n" + H, {"expect": [408], "error": "request_timeout", "ends": "close", "what": "never finishes its headers: cut at server.header_timeout_ms"}),
    # --- bodies
    ("get_with_body", get(b"/data/b", H + b"Content-Length: 11\r\n") + b"hello world",
     {"expect": [200, 400]}),
    ("get_with_smuggled_request_in_body",
     get(b"/data/b", H + b"Content-Length: %d\r\n" % len(smuggled)) + smuggled,
     {"expect": [200, 400], "smuggled": SMUGGLED_KEY, "what": "the body must never be read as a second request"}),
    ("body_oversized", get(b"/data/b", H + b"Content-Length: 100000\r\n") + b"z" * 100000,
     {"expect": [413], "error": "body_too_large", "ends": "close", "what": "100 KB body, beyond max_request_bytes"}),
    ("content_length_huge_no_body", get(b"/data/b", H + b"Content-Length: 99999999999\r\n"),
     {"expect": [413], "error": "body_too_large", "ends": "close"}),
    ("content_length_one_gigabyte", get(b"/data/b", H + b"Content-Length: 1000000000\r\n") + b"abc",
     {"expect": [413], "error": "body_too_large", "ends": "close", "what": "refused before any buffer is reserved"}),
    ("content_length_negative", get(b"/data/b", H + b"Content-Length: -1\r\n"), {"expect": [400], "ends": "close"}),
    ("content_length_not_a_number", get(b"/data/b", H + b"Content-Length: 12abc\r\n"), {"expect": [400], "ends": "close"}),
    ("content_length_conflicting", get(b"/data/b", H + b"Content-Length: 5\r\nContent-Length: 6\r\n") + b"123456",
     {"expect": [400], "ends": "close", "what": "RFC 9112 6.3: conflicting lengths are an error"}),
    ("transfer_encoding_and_content_length",
     get(b"/data/b", H + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % (5 + len(smuggled)))
     + b"0\r\n\r\n" + smuggled,
     {"expect": [400], "ends": "close", "smuggled": SMUGGLED_KEY,
      "what": "RFC 9112 6.1: answer (or refuse), then close; the bytes after the chunked end are never a request"}),
    ("chunked_garbage", get(b"/data/b", H + b"Transfer-Encoding: chunked\r\n") + b"zz\r\nnot hex\r\n",
     {"expect": [400], "ends": "close"}),
    # --- methods
    ("method_put", get(b"/data/x", method=b"PUT"), {"expect": [405], "error": "method_not_allowed",
                                                     "allow": "GET, HEAD, DELETE"}),
    ("method_post_healthz", get(b"/healthz", method=b"POST"), {"expect": [405], "allow": "GET, HEAD"}),
    ("method_patch", get(b"/data/x", method=b"PATCH"), {"expect": [405], "allow": "GET, HEAD, DELETE"}),
    ("method_options", get(b"/data/x", method=b"OPTIONS"), {"expect": [405], "allow": "GET, HEAD, DELETE"}),
    ("method_trace", get(b"/data/x", H + b"X-Secret: echo-me\r\n", method=b"TRACE"),
     {"expect": [405], "allow": "GET, HEAD, DELETE", "forbid": "echo-me"}),
    ("method_connect", b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n" + H + b"\r\n", {"expect": [400, 404, 405, "close"]}),
    ("method_unknown", get(b"/data/x", method=b"BREW"), {"expect": [501], "error": "not_implemented", "ends": "close"}),
    ("method_lowercase", get(b"/data/x", method=b"get"), {"expect": [501], "error": "not_implemented", "ends": "close", "what": "methods are case-sensitive (RFC 9110 9.1)"}),
    ("method_very_long", get(b"/data/x", method=b"A" * 5000), {"expect": [501], "ends": "close"}),
    # --- admin
    ("purge_without_token", get(b"/data/x", method=b"DELETE"), {"expect": [401], "error": "unauthorized"}),
    ("purge_wrong_token", get(b"/data/x", H + b"Authorization: Bearer not-the-token\r\n", method=b"DELETE"),
     {"expect": [401], "error": "unauthorized", "forbid": "hostile-admin-token"}),
    ("purge_basic_auth", get(b"/data/x", H + b"Authorization: Basic aG9zdGlsZTp4\r\n", method=b"DELETE"),
     {"expect": [401], "error": "unauthorized"}),
    # --- protocol versions and framing
    ("http10_without_host", b"GET /data/v HTTP/1.0\r\n\r\n", {"expect": [200],
     "what": "HTTP/1.0 needs no Host; answered, then closed"}),
    ("http11_without_host", b"GET /data/v HTTP/1.1\r\n\r\n", {"expect": [200, 400],
     "what": "RFC 9112 3.2 says 400; a cache with one virtual host may answer"}),
    ("http_version_unknown", get(b"/data/v", version=b"HTTP/9.9"), {"expect": [505], "error": "http_version_not_supported", "ends": "close"}),
    ("http09_request", b"GET /data/v\r\n\r\n", {"expect": [400], "ends": "close"}),
    ("pipelined_two", get(b"/data/p1") + get(b"/data/p2"), {"expect": [200], "responses": 2,
     "what": "two requests in one write: both answered, in order"}),
    ("pipelined_ten_healthz", get(b"/healthz") * 10, {"expect": [200], "responses": 10}),
    # --- not HTTP at all
    ("garbage_random", bytes(rng.randrange(256) for _ in range(2048)), {"expect": [400], "ends": "close"}),
    ("garbage_text", b"hello there, this is not http\r\n\r\n", {"expect": [400], "ends": "close"}),
    ("nul_bytes_only", b"\x00" * 1024, {"expect": [400], "ends": "close"}),
    ("tls_client_hello", bytes.fromhex("16030100a5010000a10303") + bytes(rng.randrange(256) for _ in range(160)),
     {"expect": [400], "ends": "close"}),
]


def main():
    corpus = HERE / "corpus"
    corpus.mkdir(exist_ok=True)
    for old in corpus.glob("*.http"):
        old.unlink()
    table = {}
    for name, payload, expectation in CORPUS:
        (corpus / f"{name}.http").write_bytes(payload)
        table[f"{name}.http"] = expectation
    header = ("# Expected outcome of each file in corpus/ (generated by make_corpus.py;\n"
              "# fields described there). Each file is sent on its own connection.\n")
    (HERE / "expectations.yaml").write_text(header + yaml.safe_dump(table, sort_keys=True, width=100))
    print(f"wrote {len(table)} requests to {corpus}")


if __name__ == "__main__":
    main()
