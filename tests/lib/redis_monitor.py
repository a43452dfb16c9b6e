"""Round trips to a Redis, counted exactly: the commands clients send it, as
MONITOR shows them, without those its scripts run (MONITOR marks them "lua").

INFO commandstats cannot tell them apart: it counts a script's own calls too,
so a GET inside the lookup script and a GET sent alone look the same. A
marker (ECHO of a unique word, sent by the test) closes each window: every
command Redis ran before it has been seen once the marker is."""
from __future__ import annotations

import re
import socket
import threading
import uuid

from helpers import wait_until

# Name, then up to three arguments (a script's SHA, its key count, its first key).
LINE = re.compile(r'^\S+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?(?: "([^"]*)")?(?: "([^"]*)")?')
# Commands of tests, health checks and new connections (ROLE: sentinel mode's master check), not of requests.
IGNORED = {"info", "ping", "cluster", "script", "auth", "command", "config", "replconf", "echo", "client",
           "hello", "select", "subscribe", "monitor", "role"}
# Sentinels announce themselves on the master they watch: PUBLISH __sentinel__:hello every 2 s.
SENTINEL_CHANNELS = "__sentinel__:"


class RedisMonitor:
    """`with RedisMonitor(server) as m:` ... `m.window()`: the commands sent since the last window."""

    def __init__(self, server):
        self.server = server
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.taken = 0

    def __enter__(self) -> RedisMonitor:
        # A socket of its own, not redis-cli: redis-cli buffers what it prints to a pipe.
        self.sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        if self.server.password:
            self.sock.sendall(b"AUTH %s\r\n" % self.server.password.encode())
        self.sock.sendall(b"MONITOR\r\n")
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.window()  # from here on
        return self

    def __exit__(self, *exc):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)

    def _read(self):
        pending = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            *lines, pending = (pending + data).split(b"\r\n")
            with self.lock:
                # Each line is a status reply: "+<time> [<db> <client>] <command>".
                self.lines += [line[1:].decode(errors="replace") for line in lines]

    def window(self) -> list[tuple[str, ...]]:
        """(NAME, args...) of every command clients sent since the last window, in order."""
        marker = uuid.uuid4().hex
        self.server.cli("ECHO", marker)
        end = wait_until(lambda: self._after(marker), 10, what="MONITOR to show the marker")
        with self.lock:
            seen, self.taken = self.lines[self.taken:end - 1], end
        commands = []
        for line in seen:
            match = LINE.match(line)
            if not match or match.group(1) == "lua" or match.group(2).lower() in IGNORED:
                continue
            if match.group(2).lower() == "publish" and (match.group(3) or "").startswith(SENTINEL_CHANNELS):
                continue
            commands.append(tuple(g for g in match.groups()[1:] if g is not None))
        return commands

    def _after(self, marker: str) -> int | None:
        """The index just past the marker's line, once MONITOR showed it."""
        with self.lock:
            for i in range(self.taken, len(self.lines)):
                if marker in self.lines[i]:
                    return i + 1
        return None
