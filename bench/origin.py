#!/usr/bin/env python3
"""Origin server for `make bench`: the slow backend every cache sits in front of.

    GET /data/<key>  -> 200 JSON {"key","data","cached","source"} shaped like a
                        scalecache answer, so NGINX and Varnish in front of it
                        serve bodies of the same size as scalecache does;
    GET /<anything>/<key> or /<key>
                     -> 200 text "Fetched data for <key>" (what scalecache's http
                        origin kind expects), or exactly --size bytes when set;
    GET /__stats     -> {"calls": total, "keys": distinct, "per_key": {...}}
                        (per_key only when ?per_key=1);
    POST /__reset    -> zero the counters.

Every data answer waits --delay-ms first and is counted per key, so a stampede
test reads origin calls straight from here. HTTP/1.1 keep-alive, one asyncio
loop: thousands of requests may wait in the delay at once.
"""
import argparse
import asyncio
import collections
import json
import urllib.parse

calls = collections.Counter()


def data_body(key, size):
    if size:
        text = ("Fetched data for %s " % key).encode()
        return (text * (size // len(text) + 1))[:size], b"application/octet-stream"
    return ("Fetched data for %s" % key).encode(), b"text/plain"


def envelope_body(key):
    body = {"key": key, "data": "Fetched data for %s" % key, "cached": True, "source": "l1"}
    return json.dumps(body, separators=(",", ":")).encode(), b"application/json"


async def answer(path, args):
    """Return (status, body, content type) for one GET or POST path."""
    url = urllib.parse.urlsplit(path)
    if url.path == "/__stats":
        per_key = "per_key=1" in url.query
        stats = {"calls": sum(calls.values()), "keys": len(calls)}
        if per_key:
            stats["per_key"] = dict(calls)
        return 200, json.dumps(stats).encode(), b"application/json"
    if url.path == "/__reset":
        calls.clear()
        return 200, b"{}", b"application/json"
    key = urllib.parse.unquote(url.path.rsplit("/", 1)[-1])
    calls[key] += 1
    if args.delay_ms:
        await asyncio.sleep(args.delay_ms / 1000.0)
    if url.path.startswith("/data/") and not args.size:
        body, ctype = envelope_body(key)
    else:
        body, ctype = data_body(key, args.size)
    return 200, body, ctype


async def serve_connection(reader, writer, args):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if length:
                await reader.readexactly(length)
            status, body, ctype = await answer(path, args)
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            writer.write(b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                         b"Cache-Control: max-age=%d\r\n%s\r\n"
                         % (status, ctype, len(body), args.max_age, b"Connection: close\r\n" if close else b"")
                         + (body if method != "HEAD" else b""))
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--size", type=int, default=0, help="data size in bytes (0: the short text)")
    parser.add_argument("--max-age", type=int, default=3600, help="Cache-Control max-age of every answer")
    args = parser.parse_args()
    server = await asyncio.start_server(lambda r, w: serve_connection(r, w, args),
                                        "127.0.0.1", args.port, backlog=1024)
    print("origin listening on 127.0.0.1:%d delay %.0f ms size %d"
          % (args.port, args.delay_ms, args.size), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
