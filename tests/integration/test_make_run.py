"""`make run`'s script: Redis + scalecache in the foreground, Ctrl-C leaves nothing behind,
and the purge command it prints (with the admin token it generated) works."""
import glob
import json
import os
import re
import shlex
import signal
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from harness import REPO_ROOT, SCALECACHE_BIN, free_port, port_open, wait_until


def test_run_script_serves_and_cleans_up_on_ctrl_c():
    port = free_port()
    before = set(glob.glob("/tmp/scalecache-run.*"))
    env = dict(os.environ, PORT=str(port), SCALECACHE_ORIGIN_SIMULATED_DELAY_MS="10")
    env.pop("SCALECACHE_ADMIN_TOKEN", None)
    env.pop("SCALECACHE_ADMIN_TOKEN_FILE", None)
    proc = subprocess.Popen([str(REPO_ROOT / "scripts/run-local.sh"), SCALECACHE_BIN], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: port_open(port), 20, what="make run to listen")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/hello", timeout=10) as r:
            assert json.load(r)["source"] == "origin"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            assert "scalecache_redis_up 1" in r.read().decode(), "make run should give scalecache a Redis"

        # The printed purge command, run as printed, purges; without its token it is refused.
        purge = wait_until(lambda: next((ln.strip() for ln in list(lines) if "-X DELETE" in ln), None), 10,
                           what="make run to print the purge command")
        token = re.search(r'Authorization: Bearer ([0-9a-f]{32,})"', purge)
        assert token, f"no generated token in {purge!r}"
        argv = shlex.split(purge)
        assert argv[0] == "curl" and argv[-1] == f"http://127.0.0.1:{port}/data/hello", purge
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        assert json.loads(done.stdout) == {"key": "hello", "purged": 1}, done
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/hello", timeout=10) as r:
            assert json.load(r)["source"] == "origin", "the purge should have removed the key"
        without = urllib.request.Request(f"http://127.0.0.1:{port}/data/hello", method="DELETE")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(without, timeout=10)
        assert refused.value.code == 401 and json.load(refused.value)["error"] == "unauthorized"

        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = "".join(lines)
    assert f"http://127.0.0.1:{port}/data/hello" in out
    assert token.group(1) not in out.replace(purge, ""), "the token shows only in the purge command"
    assert not port_open(port)
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    assert leftovers == "", f"processes left behind: {leftovers}"
    assert set(glob.glob("/tmp/scalecache-run.*")) == before, "temporary directory left behind"
