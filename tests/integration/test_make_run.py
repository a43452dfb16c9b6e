"""`make run`'s script: Redis + scalecache in the foreground, Ctrl-C leaves nothing behind."""
import glob
import json
import os
import signal
import subprocess
import urllib.request

from harness import REPO_ROOT, SCALECACHE_BIN, free_port, port_open, wait_until


def test_run_script_serves_and_cleans_up_on_ctrl_c():
    port = free_port()
    before = set(glob.glob("/tmp/scalecache-run.*"))
    env = dict(os.environ, PORT=str(port), SCALECACHE_ORIGIN_SIMULATED_DELAY_MS="10")
    proc = subprocess.Popen([str(REPO_ROOT / "scripts/run-local.sh"), SCALECACHE_BIN], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True)
    try:
        wait_until(lambda: port_open(port), 20, what="make run to listen")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/hello", timeout=10) as r:
            assert json.load(r)["source"] == "origin"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            assert "scalecache_redis_up 1" in r.read().decode(), "make run should give scalecache a Redis"
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert f"http://127.0.0.1:{port}/data/hello" in out
    assert not port_open(port)
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    assert leftovers == "", f"processes left behind: {leftovers}"
    assert set(glob.glob("/tmp/scalecache-run.*")) == before, "temporary directory left behind"
