"""Start-up, configuration errors and graceful shutdown."""
import os
import re
import signal
import subprocess
import threading

import yaml

from harness import REPO_ROOT, SCALECACHE_BIN, RedisServer, Scalecache, free_port, port_open, wait_until


def test_sigterm_lets_in_flight_request_finish_and_exits_zero(redis):
    sc = Scalecache(redis_url=redis.url, origin_delay_ms=1500,
                    env={"SCALECACHE_SHUTDOWN_DRAIN_SECONDS": "1"})
    with sc:
        result = {}
        worker = threading.Thread(target=lambda: result.update(r=sc.get_json("/data/slow", timeout=10)))
        worker.start()
        # It takes the fleet lease right before calling the origin (1.5 s).
        wait_until(lambda: sc.metric("scalecache_lease_total", outcome="acquired") == 1, 5,
                   what="the request to be waiting on the origin")
        sc.signal(signal.SIGTERM)
        wait_until(lambda: sc.get("/readyz")[0] == 503, 2, what="/readyz to turn 503")
        assert sc.get("/healthz")[0] == 200, "still serving while draining"
        worker.join(10)
        assert result["r"][0] == 200 and result["r"][1]["data"] == "Fetched data for slow"
        assert sc.wait(10) == 0
        assert '"msg":"stopped"' in sc.log()


def test_not_ready_until_redis_answers_but_serving_meanwhile():
    # A replica Ready before it reaches L2 would send its first requests to the origin.
    redis = RedisServer(port=free_port())  # not started yet
    sc = Scalecache(redis_url=redis.url, env={"SCALECACHE_REDIS_READY_WAIT_MS": "60000"})
    sc.start(wait_ready=False)
    try:
        wait_until(lambda: port_open(sc.port), 10, what="scalecache to listen")
        assert sc.get_json("/readyz") == (503, {"error": "not_ready", "detail": "starting"})
        assert sc.get_json("/data/early")[0] == 200, "requests are served while not ready"
        redis.start()
        wait_until(lambda: sc.get("/readyz")[0] == 200, 20, what="/readyz 200 once Redis answers")
        assert sc.metric("scalecache_redis_up") == 1
    finally:
        sc.stop()
        redis.stop()


def test_ready_without_redis_once_the_wait_is_over():
    with Scalecache(redis_url=f"redis://127.0.0.1:{free_port()}/0",
                    env={"SCALECACHE_REDIS_READY_WAIT_MS": "300"}) as sc:  # start() waits for /readyz 200
        assert sc.metric("scalecache_redis_up") == 0
        assert "ready without redis" in sc.log()


def test_sigterm_during_the_redis_wait_exits_at_once():
    sc = Scalecache(redis_url=f"redis://127.0.0.1:{free_port()}/0", env={"SCALECACHE_REDIS_READY_WAIT_MS": "600000"})
    sc.start(wait_ready=False)
    try:
        wait_until(lambda: port_open(sc.port), 10, what="scalecache to listen")
        sc.signal(signal.SIGTERM)
        assert sc.wait(20) == 0, "the 10-minute readiness wait must not hold up shutdown"
    finally:
        sc.stop()


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


def leaves(section: dict, prefix: str = "") -> list[str]:
    """A section's keys, nested ones joined by "_" (redis.sentinel.nodes: SENTINEL_NODES)."""
    out = []
    for key, value in section.items():
        out += leaves(value, f"{prefix}{key}_") if isinstance(value, dict) else [f"{prefix}{key}"]
    return out


def test_help_lists_every_key():
    # config/scalecache.yaml writes every key of the key table (checked by the unit
    # test Config.ExampleFileIsValidAndEqualsDefaults): --help names each one's variable.
    example = yaml.safe_load((REPO_ROOT / "config" / "scalecache.yaml").read_text())
    expected = {f"SCALECACHE_{section}_{key}".upper() for section, keys in example.items() for key in leaves(keys)}
    assert len(expected) > 30, expected
    out = subprocess.run([SCALECACHE_BIN, "--help"], capture_output=True, text=True, timeout=10).stdout
    listed = set(re.findall(r"\((SCALECACHE_[A-Z0-9_]+)\)", out))
    assert sorted(expected - listed) == [], "keys --help does not list"
    assert sorted(listed - expected) == [], "--help lists keys config/scalecache.yaml does not have"


def test_port_in_use_fails_clearly(redis):
    with Scalecache(redis_url=redis.url) as first:
        second = Scalecache(port=first.port)
        try:
            second.start(wait_ready=False)
            assert second.wait(10) == 1
            assert "cannot listen" in second.log()
        finally:
            second.stop()


def probe(sc: Scalecache, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`scalecache --probe` run with the same settings as the server `sc`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALECACHE_")}
    env.update(sc.env)
    env.update(extra_env or {})
    return subprocess.run([SCALECACHE_BIN, "--probe", *args], env=env, capture_output=True,
                          text=True, timeout=10)


def test_probe_says_ready_then_draining_then_gone():
    sc = Scalecache(env={"SCALECACHE_SHUTDOWN_DRAIN_SECONDS": "3"})
    with sc:
        ready = probe(sc)  # no URL: /readyz on the configured port
        assert ready.returncode == 0, ready.stderr
        assert probe(sc, sc.base_url + "/healthz").returncode == 0
        missing = probe(sc, sc.base_url + "/no-such-route")
        assert missing.returncode == 1 and "HTTP 404" in missing.stderr

        sc.signal(signal.SIGTERM)
        wait_until(lambda: sc.get("/readyz")[0] == 503, 2, what="/readyz to turn 503")
        draining = probe(sc)
        assert draining.returncode == 1 and "HTTP 503" in draining.stderr
        assert sc.wait(10) == 0
    gone = probe(sc)
    assert gone.returncode == 1 and f"127.0.0.1:{sc.port}/readyz" in gone.stderr


def test_probe_rejects_a_url_it_cannot_use():
    sc = Scalecache()  # not started: only its settings are used
    for url in ["ftp://127.0.0.1/readyz", "http://[::1"]:
        run = probe(sc, url)
        assert run.returncode == 2, (url, run.stderr)
        assert run.stderr.startswith("probe: ") and url in run.stderr


def test_probe_ignores_proxy_settings_and_finds_a_wildcard_listener():
    # Docker passes its daemon's proxy settings into containers; a health
    # probe of the instance itself must never go through them.
    dead_proxy = "http://127.0.0.1:9"
    sc = Scalecache(env={"SCALECACHE_SERVER_HOST": "*"})  # Pistache reads "*" as every address
    with sc:
        run = probe(sc, extra_env={"http_proxy": dead_proxy, "ALL_PROXY": dead_proxy})
        assert run.returncode == 0, run.stderr


def test_probe_and_check_config_are_alternatives():
    run = subprocess.run([SCALECACHE_BIN, "--probe", "--check-config"], capture_output=True, text=True, timeout=10)
    assert run.returncode == 2 and "alternatives" in run.stderr
