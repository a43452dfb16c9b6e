# Test stand-in for prom/prometheus: Debian 12's prometheus (2.42) and
# promtool, tagged with the name compose.yaml uses. Only for
# tests/compose/run.sh, on machines where no registry is reachable. Same
# layout as the official image: entrypoint prometheus, config in
# /etc/prometheus, data in /prometheus, user nobody, port 9090.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o nobody -g nogroup /prometheus
WORKDIR /prometheus
USER nobody
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
LABEL io.scalecache.standin="true" \
      org.opencontainers.image.description="scalecache test stand-in for the prom/prometheus image (Debian prometheus)"
