#!/usr/bin/env python3
"""Turn `helm template` output of the chart's defaults into the kustomize base.

k8s/base must stay equal to the chart's defaults: `make k8s-base` regenerates
it with this script and tests/chart/run.sh fails when the committed base
differs from a fresh render. Changes from the Helm output, all mechanical:
  * `helm test` hooks are dropped (no Helm to run them);
  * the chart's Secret is dropped: it holds random values generated at render
    time. The base expects a Secret named `scalecache` with keys `admin-token`
    and `redis-password` (the kind and minikube overlays generate a dev one);
  * metadata.namespace is removed (overlays set it);
  * the `helm.sh/chart` label is removed, `app.kubernetes.io/managed-by`
    becomes `kustomize`.

Usage: render_base.py HELM_OUTPUT.yaml OUT_DIR
"""
import os
import sys

import yaml

HEADER = ("# Generated from the charts/scalecache defaults by `make k8s-base`; do not edit.\n"
          "# Change the chart (and regenerate) or patch it in an overlay.\n")


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, _str)


def relabel(labels):
    if not labels:
        return
    labels.pop("helm.sh/chart", None)
    if "app.kubernetes.io/managed-by" in labels:
        labels["app.kubernetes.io/managed-by"] = "kustomize"


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    os.makedirs(out, exist_ok=True)
    files = []
    for d in docs:
        meta = d["metadata"]
        if "helm.sh/hook" in (meta.get("annotations") or {}):
            continue
        if d["kind"] == "Secret":
            continue
        meta.pop("namespace", None)
        relabel(meta.get("labels"))
        template = (d.get("spec") or {}).get("template")
        if isinstance(template, dict):
            relabel(template.get("metadata", {}).get("labels"))
        name = f"{d['kind'].lower()}-{meta['name']}.yaml"
        with open(os.path.join(out, name), "w") as f:
            f.write(HEADER)
            yaml.dump(d, f, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=120)
        files.append(name)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    with open(os.path.join(out, "kustomization.yaml"), "w") as f:
        f.write(HEADER)
        f.write("# Needs a Secret `scalecache` with keys admin-token and redis-password\n"
                "# (see k8s/README.md); the kind and minikube overlays generate a dev one.\n")
        yaml.dump(kustomization, f, Dumper=Dumper, sort_keys=False, default_flow_style=False)
    print(f"render_base: wrote {len(files)} objects to {out}")


if __name__ == "__main__":
    main()
