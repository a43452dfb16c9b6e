# Kubernetes: the Helm chart (charts/scalecache), plain manifests (k8s/) and
# local kind / minikube clusters. Walkthrough: docs/kubernetes.md.
#
#   make chart-check                 offline checks (also run by `make test`)
#   make kind-up kind-load deploy    local cluster, image, release
#   make minikube-up minikube-load deploy
#   make monitoring-up               kube-prometheus-stack (Prometheus + Grafana)
#   make undeploy kind-down

KUBE_NAMESPACE   ?= scalecache
HELM_RELEASE     ?= scalecache
HELM_VALUES      ?=
HELM_ARGS        ?=
KIND_CLUSTER     ?= scalecache
KIND_VERSION     ?= v0.33.0
KUSTOMIZE_OVERLAY ?= kind
MINIKUBE_CPUS    ?= 2
MINIKUBE_MEMORY  ?= 4096
# The image `make image` builds (mk/image.mk): scalecache:<project version>.
KUBE_IMAGE       ?= $(IMAGE)
KUBE_IMAGE_TAG    = $(lastword $(subst :, ,$(KUBE_IMAGE)))
# ingress-nginx's kind manifest (hostPorts 80/443 on the ingress-ready node).
# The project was retired in March 2026; its repository stays readable.
INGRESS_NGINX_KIND_MANIFEST ?= https://raw.githubusercontent.com/kubernetes/ingress-nginx/main/deploy/static/provider/kind/deploy.yaml
KUBECTL          ?= kubectl
CHART_TOOLS      ?= $(HOME)/.cache/scalecache-tools
KIND             ?= $(shell command -v kind 2>/dev/null || echo $(CHART_TOOLS)/kind-$(KIND_VERSION)/kind)

# helm, kustomize and Python from the pinned tool cache (installed on first use).
CHART_TOOLS_ENV = eval "$$(tests/chart/run.sh --tools)"

.PHONY: chart-check chart-sync chart-docs k8s-base chart-tools kind-tool \
        kind-up kind-load kind-down minikube-up minikube-load minikube-down \
        deploy undeploy deploy-kustomize undeploy-kustomize chart-test \
        monitoring-up keda-up grafana kube-load kube-status

## Offline checks: lint, render, schemas, kubeconform, policy, check-config.
chart-check:
	tests/chart/run.sh

## Copy the dashboard and the rules (single sources of truth) into the chart.
chart-sync:
	cp dashboards/scalecache.json charts/scalecache/files/dashboards/scalecache.json
	cp deploy/prometheus/scalecache-rules.yaml charts/scalecache/files/prometheus/scalecache-rules.yaml
	@echo "chart-sync: chart copies refreshed; commit charts/scalecache/files/"

## Regenerate the values table of charts/scalecache/README.md from values.yaml.
chart-docs:
	@$(CHART_TOOLS_ENV) && $$PY tests/chart/values_doc.py charts/scalecache --write

## Regenerate k8s/base from the chart's defaults.
k8s-base:
	@$(CHART_TOOLS_ENV) && set -e && tmp=$$(mktemp) && \
	  $$HELM template scalecache charts/scalecache --namespace scalecache >$$tmp && \
	  rm -f k8s/base/*.yaml && $$PY tests/chart/render_base.py $$tmp k8s/base && rm -f $$tmp

## Install helm, kubeconform, kustomize (pinned) into $(CHART_TOOLS) and print their paths.
chart-tools:
	@tests/chart/run.sh --tools

kind-tool:
	@command -v $(KIND) >/dev/null 2>&1 || { \
	  echo "installing kind $(KIND_VERSION) into $(CHART_TOOLS)/kind-$(KIND_VERSION)"; \
	  GOBIN=$(CHART_TOOLS)/kind-$(KIND_VERSION) CGO_ENABLED=0 go install sigs.k8s.io/kind@$(KIND_VERSION); }

## kind cluster with ingress-nginx on localhost:80/443 and metrics-server.
kind-up: kind-tool
	@$(KIND) get clusters 2>/dev/null | grep -qx $(KIND_CLUSTER) || \
	  $(KIND) create cluster --name $(KIND_CLUSTER) --config k8s/kind/cluster.yaml
	$(KUBECTL) config use-context kind-$(KIND_CLUSTER)
	$(KUBECTL) apply -f $(INGRESS_NGINX_KIND_MANIFEST)
	$(KUBECTL) -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=300s
	@$(CHART_TOOLS_ENV) && $$HELM upgrade --install metrics-server metrics-server \
	  --repo https://kubernetes-sigs.github.io/metrics-server/ --namespace kube-system \
	  --set 'args={--kubelet-insecure-tls}' --wait --timeout 5m

## Build the image and load it into the kind node.
kind-load: kind-tool image
	$(KIND) load docker-image $(KUBE_IMAGE) --name $(KIND_CLUSTER)

## Delete the kind cluster.
kind-down: kind-tool
	$(KIND) delete cluster --name $(KIND_CLUSTER)

## minikube with the ingress and metrics-server addons.
minikube-up:
	@command -v minikube >/dev/null 2>&1 || { echo "minikube is not installed: see docs/kubernetes.md"; exit 1; }
	minikube status >/dev/null 2>&1 || minikube start --cpus $(MINIKUBE_CPUS) --memory $(MINIKUBE_MEMORY)
	minikube addons enable ingress
	minikube addons enable metrics-server
	$(KUBECTL) config use-context minikube
	$(KUBECTL) -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=300s

## Build the image and load it into minikube.
minikube-load: image
	minikube image load $(KUBE_IMAGE)

## Delete the minikube cluster.
minikube-down:
	minikube delete

## helm upgrade --install the chart (HELM_VALUES=file, HELM_ARGS=extra flags).
deploy:
	@$(CHART_TOOLS_ENV) && $$HELM upgrade --install $(HELM_RELEASE) charts/scalecache \
	  --namespace $(KUBE_NAMESPACE) --create-namespace \
	  --set image.tag=$(KUBE_IMAGE_TAG) $(if $(HELM_VALUES),-f $(HELM_VALUES)) $(HELM_ARGS) \
	  --wait --timeout 5m
	$(KUBECTL) -n $(KUBE_NAMESPACE) get pods,svc,ingress,hpa

## helm uninstall the release.
undeploy:
	@$(CHART_TOOLS_ENV) && $$HELM uninstall $(HELM_RELEASE) --namespace $(KUBE_NAMESPACE) --wait

## helm test: one miss then one hit through the Service.
chart-test:
	@$(CHART_TOOLS_ENV) && $$HELM test $(HELM_RELEASE) --namespace $(KUBE_NAMESPACE) --logs

## Without Helm: kubectl apply -k k8s/overlays/$(KUSTOMIZE_OVERLAY).
deploy-kustomize:
	$(KUBECTL) apply -k k8s/overlays/$(KUSTOMIZE_OVERLAY)
	$(KUBECTL) -n scalecache rollout status deploy/scalecache --timeout=300s

## kubectl delete -k the overlay.
undeploy-kustomize:
	$(KUBECTL) delete -k k8s/overlays/$(KUSTOMIZE_OVERLAY)

## kube-prometheus-stack in namespace monitoring (Grafana loads dashboards from every namespace).
monitoring-up:
	@$(CHART_TOOLS_ENV) && $$HELM upgrade --install kube-prometheus-stack kube-prometheus-stack \
	  --repo https://prometheus-community.github.io/helm-charts \
	  --namespace monitoring --create-namespace \
	  --set grafana.sidecar.dashboards.searchNamespace=ALL --wait --timeout 10m

## KEDA (for keda.enabled=true).
keda-up:
	@$(CHART_TOOLS_ENV) && $$HELM upgrade --install keda keda --repo https://kedacore.github.io/charts \
	  --namespace keda --create-namespace --wait --timeout 5m

## Grafana on http://127.0.0.1:3000 (user admin, password printed).
grafana:
	@echo "user: admin  password: $$($(KUBECTL) -n monitoring get secret kube-prometheus-stack-grafana -o jsonpath='{.data.admin-password}' | base64 -d)"
	$(KUBECTL) -n monitoring port-forward svc/kube-prometheus-stack-grafana 3000:80

## In-cluster load for 5 minutes (labelled so the NetworkPolicy lets it in).
kube-load:
	$(KUBECTL) -n $(KUBE_NAMESPACE) run scalecache-load --rm -i --restart=Never --image=busybox:1.37.0 \
	  --labels=app.kubernetes.io/name=scalecache,app.kubernetes.io/instance=$(HELM_RELEASE),app.kubernetes.io/component=test \
	  -- sh -c 'end=$$(( $$(date +%s) + 300 )); while [ $$(date +%s) -lt $$end ]; do \
	     for i in 1 2 3 4 5 6 7 8; do wget -q -O /dev/null "http://$(HELM_RELEASE)/data/k$$((RANDOM % 200))" & done; wait; done'

## Deployments, pods, HPA and PDB of the release.
kube-status:
	$(KUBECTL) -n $(KUBE_NAMESPACE) get deploy,pods,hpa,pdb -o wide
