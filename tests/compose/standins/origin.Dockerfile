# The test origin of tests/compose/run.sh: tests/lib/origin_server.py (answers
# "v<N> of <key>" and counts its calls per key, GET /_calls) in Debian's
# python3. Built with tests/lib as the context; used only through
# tests/compose/origin.yaml, never by compose.yaml itself.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
COPY origin_server.py helpers.py /opt/origin/
USER 65532:65532
EXPOSE 8000
CMD ["python3", "/opt/origin/origin_server.py", "--host", "0.0.0.0", "--port", "8000"]
LABEL io.scalecache.standin="true" \
      org.opencontainers.image.description="scalecache test origin that counts its calls (tests/lib/origin_server.py)"
