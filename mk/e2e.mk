# End to end on a real single-node Kubernetes built on this machine
# (tests/e2e/run.sh, docs/kubernetes-e2e.md). Needs root.
#
#   make e2e-k8s           build what is missing (cold: Kubernetes, CoreDNS,
#                          metrics-server and Traefik from source, see the
#                          timings in docs/kubernetes-e2e.md), bring the node up,
#                          run the users' flow, tear everything down. CI runs this.
#   make e2e-k8s-if-warm   the same when the build cache is warm; exits 0 with
#                          a message (and runs nothing) when it is cold.
#   make e2e-k8s-build     only fill the cache (~/.cache/scalecache-e2e)
#   make e2e-k8s-clean     remove what an interrupted run left behind

.PHONY: e2e-k8s e2e-k8s-if-warm e2e-k8s-build e2e-k8s-clean

## End to end on a real single-node Kubernetes built here (root; cold: builds it first).
e2e-k8s:
	tests/e2e/run.sh

## The same when its build cache is warm; otherwise says so and exits 0.
e2e-k8s-if-warm:
	tests/e2e/run.sh --if-warm

## Only fill the e2e build cache (~/.cache/scalecache-e2e).
e2e-k8s-build:
	tests/e2e/run.sh --build-only

## Remove what an interrupted e2e run left behind.
e2e-k8s-clean:
	tests/e2e/run.sh --teardown-stale
