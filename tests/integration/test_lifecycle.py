"""Start-up, configuration errors and graceful shutdown."""
import signal
import subprocess
import threading
import time

from harness import SCALECACHE_BIN, Scalecache, wait_until


def test_sigterm_lets_in_flight_request_finish_and_exits_zero(redis):
    sc = Scalecache(redis_url=redis.url, origin_delay_ms=1500,
                    env={"SCALECACHE_SHUTDOWN_DRAIN_SECONDS": "1"})
    with sc:
        result = {}
        worker = threading.Thread(target=lambda: result.update(r=sc.get_json("/data/slow", timeout=10)))
        worker.start()
        time.sleep(0.3)  # the request is now waiting on the origin
        sc.signal(signal.SIGTERM)
        wait_until(lambda: sc.get("/readyz")[0] == 503, 2, what="/readyz to turn 503")
        assert sc.get("/healthz")[0] == 200, "still serving while draining"
        worker.join(10)
        assert result["r"][0] == 200 and result["r"][1]["data"] == "Fetched data for slow"
        assert sc.wait(10) == 0
        assert '"msg":"stopped"' in sc.log()


def test_check_config_reports_errors_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: high\n")
    run = subprocess.run([SCALECACHE_BIN, "--check-config", "--config", str(bad)],
                         capture_output=True, text=True, timeout=10)
    assert run.returncode == 2
    assert run.stderr.strip() == f'config error: {bad}:2:9: server.port: expected an integer from 1 to 65535, got "high"'
    good = subprocess.run([SCALECACHE_BIN, "--check-config", "--config", "config/scalecache.yaml"],
                          capture_output=True, text=True, timeout=10)
    assert good.returncode == 0, good.stderr


def test_help_lists_every_key():
    out = subprocess.run([SCALECACHE_BIN, "--help"], capture_output=True, text=True, timeout=10).stdout
    for env_name in ["SCALECACHE_SERVER_PORT", "SCALECACHE_SERVER_THREADS", "SCALECACHE_REDIS_URL",
                     "SCALECACHE_ORIGIN_URL", "SCALECACHE_ORIGIN_SIMULATED_DELAY_MS",
                     "SCALECACHE_ADMIN_TOKEN", "SCALECACHE_SHUTDOWN_DRAIN_SECONDS"]:
        assert env_name in out


def test_port_in_use_fails_clearly(redis):
    with Scalecache(redis_url=redis.url) as first:
        second = Scalecache(port=first.port)
        try:
            second.start(wait_ready=False)
            assert second.wait(10) == 1
            assert "cannot listen" in second.log()
        finally:
            second.stop()
