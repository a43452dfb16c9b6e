"""Do two renders of the chart describe the same objects?

    same_manifests.py A.yaml B.yaml

Compares the parsed documents, so whitespace and key order don't count.
Secret values the chart generates at random on every render (the admin token
and Redis password when none is given) are compared by key only.
Exit 0 when the same, 1 with the differing objects and fields listed.
"""
import sys

import yaml


def documents(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for doc in docs:
        if doc.get("kind") == "Secret":
            for field in ("data", "stringData"):
                if isinstance(doc.get(field), dict):
                    doc[field] = dict.fromkeys(doc[field], "<value>")
    return {(d.get("kind"), d.get("metadata", {}).get("name")): d for d in docs}


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from differences(a.get(key), b.get(key), "%s.%s" % (path, key))
    elif a != b:
        yield "%s: %.80r != %.80r" % (path or ".", a, b)


def main():
    a, b = documents(sys.argv[1]), documents(sys.argv[2])
    problems = ["only in %s: %s %s" % (sys.argv[1], *k) for k in a.keys() - b.keys()]
    problems += ["only in %s: %s %s" % (sys.argv[2], *k) for k in b.keys() - a.keys()]
    for key in sorted(a.keys() & b.keys(), key=str):
        problems += ["%s %s %s" % (*key, d) for d in differences(a[key], b[key])]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
