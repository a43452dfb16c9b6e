#!/usr/bin/env python3
"""Write a single-layer OCI image archive that `ctr images import` accepts.

Used by tests/e2e for the images that need no package manager: the pause
binary, CoreDNS, metrics-server (static Go binaries) and the busybox stand-in
of the `helm test` pod. No registry and no docker engine involved.

  mkimage.py --name docker.io/scalecache-e2e/pause:1.0 --out pause.tar \
      --file /pause=build/pause:0755 --entrypoint /pause [--user 65535]
      [--link /bin/sh=busybox] [--dir /tmp:1777] [--env K=V] [--cmd ARG]

The layer is deterministic (mtime 0, uid/gid 0, sorted), so the same inputs
give the same image digest.
"""
import argparse
import hashlib
import io
import json
import sys
import tarfile


def split_spec(spec, what):
    if "=" not in spec:
        sys.exit(f"mkimage: {what} {spec!r}: expected IMAGE_PATH=VALUE")
    path, value = spec.split("=", 1)
    if not path.startswith("/"):
        sys.exit(f"mkimage: {what} {spec!r}: image path must be absolute")
    return path.lstrip("/"), value


def parents(path):
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def build_layer(files, links, dirs):
    entries = {}  # path -> TarInfo (+ data)
    for path, mode in dirs:
        ti = tarfile.TarInfo(path)
        ti.type, ti.mode = tarfile.DIRTYPE, mode
        entries[path] = (ti, None)
    for path, (src, mode) in files.items():
        with open(src, "rb") as f:
            data = f.read()
        ti = tarfile.TarInfo(path)
        ti.size, ti.mode = len(data), mode
        entries[path] = (ti, data)
    for path, target in links.items():
        ti = tarfile.TarInfo(path)
        ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, target, 0o777
        entries[path] = (ti, None)
    for path in list(entries):
        for d in parents(path):
            if d not in entries:
                ti = tarfile.TarInfo(d)
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                entries[d] = (ti, None)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            ti, data = entries[path]
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def blob(obj_or_bytes):
    data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(
        obj_or_bytes, sort_keys=True, separators=(",", ":")).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="full reference, e.g. docker.io/x/y:1.0")
    ap.add_argument("--out", required=True)
    ap.add_argument("--file", action="append", default=[], help="/path=SRC[:MODE]")
    ap.add_argument("--link", action="append", default=[], help="/path=TARGET (symlink)")
    ap.add_argument("--dir", action="append", default=[], help="/path[:MODE]")
    ap.add_argument("--entrypoint", action="append", default=[])
    ap.add_argument("--cmd", action="append", default=[])
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--user", default="")
    ap.add_argument("--workdir", default="/")
    a = ap.parse_args()

    files = {}
    for spec in a.file:
        path, value = split_spec(spec, "--file")
        src, _, mode = value.partition(":")
        files[path] = (src, int(mode or "0755", 8))
    links = dict(split_spec(s, "--link") for s in a.link)
    dirs = []
    for spec in a.dir:
        path, _, mode = spec.partition(":")
        dirs.append((path.lstrip("/"), int(mode or "0755", 8)))

    layer, layer_digest = blob(build_layer(files, links, dirs))
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + a.env
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": env, "WorkingDir": a.workdir},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "tests/e2e/images/mkimage.py", "created": "1970-01-01T00:00:00Z"}],
        "created": "1970-01-01T00:00:00Z",
    }
    if a.entrypoint:
        config["config"]["Entrypoint"] = a.entrypoint
    if a.cmd:
        config["config"]["Cmd"] = a.cmd
    if a.user:
        config["config"]["User"] = a.user
    config_data, config_digest = blob(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config_data)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": len(layer)}],
    }
    manifest_data, manifest_digest = blob(manifest)
    tag = a.name.rsplit(":", 1)[1] if ":" in a.name.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": len(manifest_data),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": a.name,
                            "org.opencontainers.image.ref.name": tag},
        }],
    }
    with tarfile.open(a.out, "w") as tar:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            tar.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        for data, digest in ((layer, layer_digest), (config_data, config_digest),
                             (manifest_data, manifest_digest)):
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
        add("index.json", json.dumps(index, sort_keys=True).encode())
    print(f"{a.name} {manifest_digest} layer {len(layer) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
