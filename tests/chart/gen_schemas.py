#!/usr/bin/env python3
"""Generate strict, standalone JSON schemas for kubeconform, offline.

Inputs are files shipped inside upstream Go modules (fetched through the Go
module proxy by tests/chart/run.sh):
  * the Kubernetes OpenAPI v2 document  (k8s.io/kubernetes api/openapi-spec/swagger.json)
  * CustomResourceDefinition YAML files  (prometheus-operator, KEDA, Gateway API)

Output: one file per kind and version, named the way kubeconform's
`{{ .ResourceKind }}{{ .KindSuffix }}.json` template resolves it
(deployment-apps-v1.json, service-v1.json, servicemonitor-monitoring-v1.json).

"Strict" means every object that lists its properties gets
`additionalProperties: false`, so a misspelt field fails validation instead of
being ignored the way the API server's pruning would silently drop it.
Objects marked x-kubernetes-preserve-unknown-fields stay open, maps
(additionalProperties: {schema}) keep their value schema.

Usage: gen_schemas.py --swagger swagger.json --crd a.yaml --crd b.yaml --out DIR
"""
import argparse
import copy
import json
import os
import sys

import yaml

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def file_name(kind, api_version):
    """Mirror kubeconform's schemaPath(): kind + '-' + first DNS label of the group + '-' + version."""
    parts = api_version.split("/")
    suffix = "-" + parts[0].split(".")[0].lower()
    if len(parts) > 1:
        suffix += "-" + parts[1].lower()
    return kind.lower() + suffix + ".json"


def tighten(node):
    """Recursively close objects and widen the special Kubernetes scalar types."""
    if isinstance(node, list):
        return [tighten(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: tighten(v) for k, v in value.items()}
        else:
            out[key] = tighten(value)
    if out.get("x-kubernetes-int-or-string"):
        if "anyOf" not in out and "oneOf" not in out:
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def k8s_schemas(swagger_path):
    with open(swagger_path) as f:
        defs = json.load(f)["definitions"]
    defs = copy.deepcopy(defs)
    defs[INT_OR_STRING] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    defs[QUANTITY] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
    defs = {name: tighten(d) for name, d in defs.items()}
    # swagger uses "#/definitions/NAME": keep that layout inside every file.
    results = {}
    for d in defs.values():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            group, version, kind = gvk["group"], gvk["version"], gvk["kind"]
            api_version = f"{group}/{version}" if group else version
            if "apiVersion" not in d.get("properties", {}):
                continue  # list options and the like are not objects one applies
            schema = {k: v for k, v in d.items() if not k.startswith("x-kubernetes-")}
            schema = copy.deepcopy(schema)
            schema["properties"]["apiVersion"] = {"type": "string", "enum": [api_version]}
            schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind"})
            schema["definitions"] = reachable(defs, schema)
            results[file_name(kind, api_version)] = schema
    return results, defs


def reachable(defs, root):
    """The subset of definitions reachable from root through $ref."""
    seen = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref[len("#/definitions/"):]
                if name not in seen:
                    seen[name] = defs[name]
                    stack.append(defs[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return dict(sorted(seen.items()))


def crd_schemas(crd_path, k8s_defs):
    results = {}
    with open(crd_path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for crd in docs:
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        for ver in spec["versions"]:
            if not ver.get("served", True):
                continue
            raw = ver.get("schema", {}).get("openAPIV3Schema")
            if raw is None:
                continue
            api_version = f"{group}/{ver['name']}"
            schema = tighten(copy.deepcopy(raw))
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [api_version]}
            props["kind"] = {"type": "string", "enum": [kind]}
            # CRDs describe metadata as a bare object: use the real ObjectMeta.
            props["metadata"] = {"$ref": "#/definitions/" + OBJECT_META}
            schema["additionalProperties"] = False
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind"})
            schema["definitions"] = reachable(k8s_defs, schema)
            results[file_name(kind, api_version)] = schema
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swagger", required=True)
    ap.add_argument("--crd", action="append", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    schemas, defs = k8s_schemas(args.swagger)
    for crd in args.crd:
        found = crd_schemas(crd, defs)
        if not found:
            sys.exit(f"gen_schemas: no served CRD version in {crd}")
        schemas.update(found)
    for name, schema in sorted(schemas.items()):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(schema, f, indent=1, sort_keys=True)
            f.write("\n")
    print(f"gen_schemas: wrote {len(schemas)} schemas to {args.out}")


if __name__ == "__main__":
    main()
