# Container image (Dockerfile; see docs/containers.md).
#
# The image tag is the project version, pinned in one place: the VERSION of
# project() in CMakeLists.txt (so the binary and its image always agree).
# compose.yaml, the chart and k8s/ carry copies (scripts/version.sh --sync
# writes them); tests/version/check.sh and tests/compose/run.sh fail if they differ.
# The tag is never `latest`.

IMAGE_NAME    ?= scalecache
IMAGE_VERSION := $(shell scripts/version.sh 2>/dev/null)
IMAGE         := $(IMAGE_NAME):$(IMAGE_VERSION)
DOCKER        ?= docker

# OCI labels: the commit and its date (not the build time, so rebuilding the
# same commit gives the same labels).
IMAGE_REVISION = $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
IMAGE_CREATED  = $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)

.PHONY: image image-base image-name image-version image-tls-certs

## debian:bookworm-slim, bootstrapped locally when absent (no registry here); starts dockerd if needed.
image-base:
	@scripts/make-base-image.sh

## Build the container image scalecache:<project version>.
image: image-version image-base
	$(DOCKER) build --network host --force-rm \
	  --build-arg VERSION=$(IMAGE_VERSION) \
	  --build-arg REVISION=$(IMAGE_REVISION) \
	  --build-arg CREATED=$(IMAGE_CREATED) \
	  -t $(IMAGE) .
	@$(DOCKER) image inspect -f '{{.Size}}' $(IMAGE) | awk '{ printf "built $(IMAGE): %.1f MB\n", $$1 / 1e6 }'

# The one-shot certificate maker of deploy/compose/redis-tls.yaml (deploy/tls-certs): Debian's openssl.
TLS_CERTS_IMAGE ?= scalecache-tls-certs:bookworm
## Build the compose TLS overlay's certificate maker (deploy/tls-certs/Dockerfile).
image-tls-certs: image-base
	$(DOCKER) build --network host --force-rm -t $(TLS_CERTS_IMAGE) deploy/tls-certs

# For scripts: the exact image reference `make image` builds.
## Print the image reference `make image` builds.
image-name: image-version
	@echo $(IMAGE)

# (Checked in recipes only, so a malformed CMakeLists.txt never breaks other targets.)
image-version:
	@test -n "$(IMAGE_VERSION)" || { \
	  echo 'mk/image.mk: no "project(scalecache VERSION x.y.z" line in CMakeLists.txt' >&2; exit 1; }
