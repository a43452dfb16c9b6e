# Redis for tests/e2e: Debian's redis-server on the debootstrapped base
# (scripts/make-base-image.sh), because no registry serves the official image
# here. The chart runs it as `redis-server --port 6379 ...` (args, no
# entrypoint needed), uid 999, read-only root, /data on an emptyDir, and probes
# it with `redis-cli ping` (REDISCLI_AUTH from the environment).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chmod 0777 /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
