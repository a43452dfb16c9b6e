"""The original design scalecache replaces: Flask + Redis, cache-aside.

GET /data/<key>: answer from Redis when the key is there, else fetch from the
origin (sleep ORIGIN_DELAY_MS and make up "Fetched data for <key>", as the
original app did), store it in Redis with a TTL and answer. There is no fill
lock: concurrent misses for one key each go to the origin.

Environment: REDIS_URL (redis://127.0.0.1:6379/0), ORIGIN_DELAY_MS (2000),
ORIGIN_URL (when set, fetch GET ORIGIN_URL/<key> instead of sleeping, so the
bench counts this app's origin calls at the same origin as everyone else's),
CACHE_TTL_SECONDS (300).

Run: gunicorn -w 2 -b 127.0.0.1:8000 --chdir bench/flask_app app:app
"""
import os
import time
import urllib.parse
import urllib.request

import redis
from flask import Flask, jsonify

app = Flask(__name__)
cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
ORIGIN_DELAY_MS = float(os.environ.get("ORIGIN_DELAY_MS", "2000"))
ORIGIN_URL = os.environ.get("ORIGIN_URL", "")
TTL = int(os.environ.get("CACHE_TTL_SECONDS", "300"))


def fetch_from_origin(key):
    if ORIGIN_URL:
        url = "%s/%s" % (ORIGIN_URL.rstrip("/"), urllib.parse.quote(key, safe=""))
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read().decode()
    time.sleep(ORIGIN_DELAY_MS / 1000.0)
    return "Fetched data for %s" % key


@app.route("/data/<path:key>")
def get_data(key):
    cached = cache.get(key)
    if cached is not None:
        return jsonify(key=key, data=cached.decode(), cached=True)
    data = fetch_from_origin(key)
    cache.setex(key, TTL, data)
    return jsonify(key=key, data=data, cached=False)
