"""The worker tier with real processes: serving replicas with origin.kind:
queue, `scalecache worker` processes, one Redis, and the test origin.

The origin holds its answers (OriginServer.held) whenever a test needs the
system still: counts are read while nothing can finish, then it lets go.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import time

from harness import SCALECACHE_BIN, Fleet, Scalecache, Worker, total
from helpers import wait_until
from origin_server import HOLDABLE, OriginServer

JOBS = "scalecache:jobs"
DEAD = "scalecache:jobs:dead"


def queue_env(origin: OriginServer, **extra: str) -> dict[str, str]:
    """Settings shared by serving replicas and workers: serving replicas queue
    misses, workers call the test origin; a held origin call neither times out
    nor loses its lease, and clients wait up to 60 s for their job. Redis
    commands get 1 s: with a queue, a Redis that does not answer in time is
    a 503, and this machine's load must not decide a test."""
    return {**HOLDABLE, "SCALECACHE_REDIS_TIMEOUT_MS": "1000", "SCALECACHE_ORIGIN_KIND": "queue", "SCALECACHE_ORIGIN_URL": origin.url,
            "SCALECACHE_WORKER_ORIGIN_KIND": "http", "SCALECACHE_QUEUE_WAIT_MS": "60000",
            "SCALECACHE_WORKER_CLAIM_IDLE_MS": "500", **extra}


def worker_metric(worker: Worker, result: str) -> float:
    return worker.metric("scalecache_worker_jobs_total", result=result)


def test_three_replicas_one_hundred_cold_requests_make_one_job_and_one_origin_call(redis):
    with OriginServer() as origin:
        env = queue_env(origin)
        with Fleet(3, redis_url=redis.url, env=env) as replicas, Worker(redis.url, env=env) as worker:
            def get(i):
                return replicas[i % 3].get("/data/cold", timeout=90)

            def everyone_waits():
                # Per replica one request leads and the rest join it; of the
                # three leaders one took the lease (its job is at the origin)
                # and two wait for that job's fill.
                return (origin.count("cold") == 1
                        and total(replicas, "scalecache_coalesced_requests_total") == 97
                        and total(replicas, "scalecache_lease_total", outcome="waited") == 2)

            results = origin.hold_while([lambda i=i: get(i) for i in range(100)], everyone_waits,
                                        what="100 requests behind one job")
            assert [status for status, _, _ in results] == [200] * 100
            assert {json.loads(body)["data"] for _, body, _ in results} == {"v1 of cold"}
            assert origin.count("cold") == 1
            assert worker_metric(worker, "ok") == 1
            assert total(replicas, "scalecache_lease_total", outcome="acquired") == 1
            wait_until(lambda: redis.cli("XLEN", JOBS) == "0", 5, what="the job to leave the stream")


def test_a_job_whose_worker_is_killed_is_claimed_by_another(redis):
    with OriginServer() as origin:
        env = queue_env(origin)
        with Scalecache(redis_url=redis.url, env=env) as sc, origin.held():
            first = Worker(redis.url, env=env).start()
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                answer = pool.submit(sc.get, "/data/orphan", timeout=90)
                wait_until(lambda: origin.count("orphan") == 1, 20, what="the first worker to call the origin")
                first.kill()
                first.stop()
                with Worker(redis.url, env=env) as second:
                    wait_until(lambda: origin.count("orphan") == 2, 20, what="the second worker to take the job over")
                    assert second.metric("scalecache_worker_claims_total") == 1
                    origin._released.set()  # let the second worker's call answer
                    status, body, _ = answer.result(60)
                    assert status == 200, body
                    assert json.loads(body)["data"] == "v2 of orphan"
                    wait_until(lambda: worker_metric(second, "ok") == 1, 10, what="the job counted done")
            assert redis.cli("XLEN", JOBS) == "0"


def test_an_origin_that_always_fails_ends_in_the_dead_letter_stream(redis):
    with OriginServer() as origin:
        origin.fail = True
        env = queue_env(origin, SCALECACHE_WORKER_MAX_ATTEMPTS="3", SCALECACHE_WORKER_BACKOFF_MS="20")
        with Scalecache(redis_url=redis.url, env=env) as sc, Worker(redis.url, env=env) as worker:
            status, body, _ = sc.get("/data/doomed", timeout=90)
            assert status == 502, body
            assert json.loads(body)["error"] == "origin_error"
            assert origin.count("doomed") == 3
            assert worker_metric(worker, "retry") == 2
            assert worker_metric(worker, "dead") == 1
            assert redis.cli("XLEN", DEAD) == "1"
            assert redis.cli("XLEN", JOBS) == "0"
            # Nothing retries it on its own afterwards.
            assert worker.metric("scalecache_worker_jobs_in_progress") == 0
            assert origin.count("doomed") == 3


def test_a_dead_letter_answers_the_stale_copy_when_there_is_one(redis):
    with OriginServer() as origin:
        env = queue_env(origin, SCALECACHE_WORKER_MAX_ATTEMPTS="2", SCALECACHE_WORKER_BACKOFF_MS="20",
                        SCALECACHE_CACHE_TTL_SECONDS="1", SCALECACHE_CACHE_STALE_WHILE_REVALIDATE="0",
                        SCALECACHE_CACHE_TTL_JITTER="0", SCALECACHE_CACHE_EARLY_REFRESH_BETA="0")
        with Scalecache(redis_url=redis.url, env=env) as sc, Worker(redis.url, env=env) as worker:
            assert sc.get("/data/kept")[0] == 200
            expired_at = time.monotonic() + 1.0
            origin.fail = True
            wait_until(lambda: time.monotonic() >= expired_at, 5, what="the entry's TTL to pass")
            status, body, headers = sc.get("/data/kept", timeout=90)
            assert status == 200, body
            assert json.loads(body) == {"key": "kept", "data": "v1 of kept", "cached": True, "source": "stale"}
            assert worker_metric(worker, "dead") == 1
            assert origin.count("kept") == 3


def test_a_full_queue_answers_503_with_retry_after_and_drains_afterwards(redis):
    with OriginServer() as origin:
        env = queue_env(origin, SCALECACHE_QUEUE_MAX_LENGTH="2", SCALECACHE_QUEUE_WAIT_MS="100")
        with Scalecache(redis_url=redis.url, env=env) as sc:
            # No worker yet: two jobs fill the queue; their clients give up after wait_ms.
            assert sc.get("/data/q1")[0] == 504
            assert sc.get("/data/q2")[0] == 504
            status, body, headers = sc.get("/data/q3")
            assert status == 503, body
            assert headers["retry-after"] == "1"
            assert json.loads(body)["error"] == "overloaded"
            assert redis.cli("XLEN", JOBS) == "2"
            with Worker(redis.url, env=env) as worker:
                wait_until(lambda: redis.cli("XLEN", JOBS) == "0", 10, what="the queue to drain")
                assert worker_metric(worker, "ok") == 2
                assert sc.get("/data/q1")[0] == 200
                assert sc.get("/data/q3", timeout=30)[0] in (200, 504)
                wait_until(lambda: sc.get("/data/q3")[0] == 200, 10, what="q3 to be computed")


def test_sigterm_hands_held_jobs_back_and_exits_0(redis):
    with OriginServer() as origin:
        env = queue_env(origin, SCALECACHE_SHUTDOWN_GRACE_SECONDS="1")
        keys = ["t1", "t2", "t3"]
        with Scalecache(redis_url=redis.url, env=env) as sc, origin.held():
            first = Worker(redis.url, env=env).start()
            with concurrent.futures.ThreadPoolExecutor(len(keys)) as pool:
                answers = [pool.submit(sc.get, f"/data/{key}", timeout=90) for key in keys]
                wait_until(lambda: all(origin.count(k) == 1 for k in keys), 20, what="three jobs at the origin")
                first.signal(signal.SIGTERM)
                assert first.wait(15) == 0
                assert "jobs handed back" in first.log()
                first.stop()
                with Worker(redis.url, env=env) as second:
                    wait_until(lambda: all(origin.count(k) == 2 for k in keys), 20, what="the jobs taken over")
                    origin._released.set()
                    results = [a.result(60) for a in answers]
                    assert [s for s, _, _ in results] == [200] * 3
                    assert second.metric("scalecache_worker_claims_total") == 3
            wait_until(lambda: redis.cli("XLEN", JOBS) == "0", 10, what="every job done")


def test_sigterm_lets_running_jobs_finish_within_the_grace_period(redis):
    with OriginServer() as origin:
        env = queue_env(origin, SCALECACHE_SHUTDOWN_GRACE_SECONDS="30")
        with Scalecache(redis_url=redis.url, env=env) as sc, origin.held():
            worker = Worker(redis.url, env=env).start()
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                answer = pool.submit(sc.get, "/data/finishing", timeout=90)
                wait_until(lambda: origin.count("finishing") == 1, 20, what="the job at the origin")
                worker.signal(signal.SIGTERM)
                # Let the origin answer only once the worker has stopped reading and
                # waits for its job: the job must then finish, not be handed back.
                wait_until(lambda: "waiting for held jobs" in worker.log(), 10, what="the worker to wait for its job")
                assert worker.get("/readyz")[0] == 503
                origin._released.set()
                assert worker.wait(15) == 0
                assert answer.result(60)[0] == 200
            assert "handed back" not in worker.log()
            worker.stop()
            assert redis.cli("XLEN", JOBS) == "0"
            assert origin.count("finishing") == 1


def test_respond_async_answers_202_then_the_answer_comes_from_the_cache(redis):
    with OriginServer() as origin:
        env = queue_env(origin, SCALECACHE_QUEUE_RETRY_AFTER_SECONDS="2")
        with Scalecache(redis_url=redis.url, env=env) as sc, Worker(redis.url, env=env) as worker:
            with origin.held():
                status, body, headers = sc.get("/data/later%20on", headers={"Prefer": "respond-async"})
                assert status == 202, body
                assert json.loads(body) == {"key": "later on", "status": "accepted", "location": "/data/later%20on"}
                assert headers["location"] == "/data/later%20on"
                assert headers["retry-after"] == "2"
                assert headers["preference-applied"] == "respond-async"
            wait_until(lambda: worker_metric(worker, "ok") == 1, 10, what="the job done")
            status, body, _ = sc.get("/data/later%20on")
            assert status == 200, body
            assert json.loads(body)["data"] == "v1 of later on"
            assert origin.count("later on") == 1
            # What is at hand is answered as it is, preference or not.
            status, body, _ = sc.get("/data/later%20on", headers={"Prefer": "respond-async"})
            assert status == 200, body


def test_prefer_wait_bounds_the_wait_then_answers_202(redis):
    with OriginServer() as origin:
        env = queue_env(origin)
        with Scalecache(redis_url=redis.url, env=env) as sc, Worker(redis.url, env=env), origin.held():
            started = time.monotonic()
            status, body, headers = sc.get("/data/slow", headers={"Prefer": "wait=1"})
            waited = time.monotonic() - started
            assert status == 202, body
            assert headers["preference-applied"] == "wait=1"
            assert 1.0 <= waited < 10, waited
            assert origin.count("slow") == 1


def test_a_malformed_prefer_wait_is_a_400_with_the_json_error(redis):
    with OriginServer() as origin:
        env = queue_env(origin)
        with Scalecache(redis_url=redis.url, env=env) as sc:
            status, body, _ = sc.get("/data/x", headers={"Prefer": "wait=soon"})
            assert status == 400
            assert json.loads(body)["error"] == "invalid_prefer"
            assert origin.count("x") == 0


def test_worker_configuration_errors_exit_2_naming_the_key(tmp_path):
    def check(env, *args):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SCALECACHE_")}
        return subprocess.run([SCALECACHE_BIN, "worker", *args], env={**clean, **env},
                              capture_output=True, text=True, timeout=10)

    no_redis = check({}, "--check-config")
    assert no_redis.returncode == 2 and "needs redis.url" in no_redis.stderr
    config = tmp_path / "worker.yaml"
    config.write_text("redis:\n  url: redis://127.0.0.1:1\nworker:\n  max_attempts: lots\n")
    bad = check({}, "--config", str(config))
    assert bad.returncode == 2
    assert f"{config}:4:17: worker.max_attempts: expected an integer from 1 to 100" in bad.stderr
    ok = check({"SCALECACHE_REDIS_URL": "redis://127.0.0.1:1"}, "--check-config")
    assert ok.returncode == 0, ok.stderr
