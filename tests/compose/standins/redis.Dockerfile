# Test stand-in for the official redis image: Debian 12's redis-server (7.0),
# tagged with the name compose.yaml uses. Only for tests/compose/run.sh, on
# machines where no registry is reachable. Like the official image it keeps
# data in /data, runs as an unprivileged user and has redis-cli (the cluster
# override's one-shot create container runs the agent script with it).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
LABEL io.scalecache.standin="true" \
      org.opencontainers.image.description="scalecache test stand-in for the redis image (Debian redis-server)"
