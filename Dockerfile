# scalecache container image.
#
# Build:  make image          (docker build --network host, tag pinned in mk/image.mk)
# Run:    docker run --read-only --cap-drop ALL -p 8080:8080 scalecache:<version>
#
# Stage 1 compiles on Debian 12 with the project's own Debian packages.
# Stage 2 is `scratch` plus only what the binary loads at run time: the
# stripped binary, the shared libraries ldd lists for it, CA roots, the baked
# config and passwd/group entries for the numeric user 65532. No shell, no
# package manager, nothing written at run time (works with --read-only).
#
# The base image is made locally by scripts/make-base-image.sh (debootstrap),
# since no registry is reachable here; a pulled debian:bookworm-slim works too.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
# Same packages as scripts/install-deps.sh build (minus the test-only gtest),
# plus binutils for strip/readelf and ca-certificates for the runtime bundle.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config binutils ca-certificates \
      libpistache-dev libhiredis-dev prometheus-cpp-dev libyaml-cpp-dev \
      libcurl4-openssl-dev libssl-dev rapidjson-dev libabsl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore admits only the sources the build reads.
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCALECACHE_BUILD_TESTS=OFF \
 && cmake --build build --target scalecache \
 && ./build/scalecache --check-config --config config/scalecache.yaml \
 && scripts/docker-rootfs.sh build/scalecache config/scalecache.yaml /rootfs

FROM scratch
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=unknown
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080
# SIGTERM: /readyz turns 503, serving continues for shutdown.drain_seconds,
# in-flight requests get up to shutdown.grace_seconds, then exit 0. Give
# `docker stop -t` / stop_grace_period more than drain + grace (default 15 s).
STOPSIGNAL SIGTERM
# No shell or curl in the image: the binary probes its own /readyz (on the
# port its configuration and SCALECACHE_* environment give). Kubernetes
# ignores this and uses the chart's httpGet probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/scalecache", "--probe", "--config", "/etc/scalecache/scalecache.yaml"]
ENTRYPOINT ["/usr/local/bin/scalecache"]
CMD ["--config", "/etc/scalecache/scalecache.yaml"]
LABEL org.opencontainers.image.title="scalecache" \
      org.opencontainers.image.description="HTTP caching service: GET /data/<key> from in-process L1, Redis L2 or a slow origin" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="scratch" \
      org.opencontainers.image.documentation="docs/containers.md"
