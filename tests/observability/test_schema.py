"""The Grafana schema check (tests/observability/schema/check.sh) passes on the
project's files and fails on broken copies of them: an unknown property, a
wrong type, an unknown enum value or panel type, in the dashboard and in both
provisioning files. No processes besides tsc; about a second once installed."""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "tests/observability/schema/check.sh"
DASHBOARD = REPO / "dashboards/scalecache.json"
PROVISIONING = REPO / "deploy/compose/grafana/provisioning"
DATASOURCES = PROVISIONING / "datasources/prometheus.yaml"
PROVIDERS = PROVISIONING / "dashboards/scalecache.yaml"

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK), *args], capture_output=True, text=True, timeout=300)


def first_panel(dashboard: dict, kind: str) -> dict:
    return next(p for p in dashboard["panels"] if p["type"] == kind)


def test_project_files_match_grafanas_models():
    r = run_check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 files match" in r.stdout


# Each breaks one thing; the JSON path the report must name.
DASHBOARD_BREAKS = {
    "unknown-panel-property": (lambda d: first_panel(d, "timeseries").update(legendPosition="bottom"),
                               "legendPosition"),
    "mistyped-custom-field": (lambda d: first_panel(d, "timeseries")["fieldConfig"]["defaults"]["custom"]
                              .update(lineWidth="1"), ".fieldConfig.defaults.custom.lineWidth"),
    "unknown-enum-value": (lambda d: first_panel(d, "stat")["options"].update(colorMode="rainbow"),
                           ".options.colorMode"),
    "unknown-panel-type": (lambda d: first_panel(d, "stat").update(type="singlestat"), ".type"),
    "unknown-query-field": (lambda d: first_panel(d, "timeseries")["targets"][0].update(exp="up"),
                            ".targets[0].exp"),
    "unknown-top-level": (lambda d: d.update(schema_version=39), "$.schema_version"),
}


def test_broken_files_fail_with_their_json_path(tmp_path):
    base = json.loads(DASHBOARD.read_text())
    args = []
    for name, (breaks, _) in DASHBOARD_BREAKS.items():
        d = copy.deepcopy(base)
        breaks(d)
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps(d, indent=2))
        args += ["--dashboard", str(f)]

    ds = yaml.safe_load(DATASOURCES.read_text())
    ds["datasources"][0]["isdefault"] = ds["datasources"][0].pop("isDefault")
    (tmp_path / "ds.yaml").write_text(yaml.safe_dump(ds))
    prov = yaml.safe_load(PROVIDERS.read_text())
    prov["providers"][0]["updateIntervalSeconds"] = "30"
    (tmp_path / "prov.yaml").write_text(yaml.safe_dump(prov))
    args += ["--datasources", str(tmp_path / "ds.yaml"), "--providers", str(tmp_path / "prov.yaml")]

    r = run_check(*args)
    assert r.returncode != 0, r.stdout
    lines = r.stdout.splitlines()
    for name, (_, path) in DASHBOARD_BREAKS.items():
        assert any(line.startswith(str(tmp_path / f"{name}.json")) and path in line for line in lines), \
            f"{name}: no error naming {path}:\n{r.stdout}"
    assert any("ds.yaml: $.datasources[0].isdefault" in line for line in lines), r.stdout
    assert any("prov.yaml: $.providers[0].updateIntervalSeconds" in line for line in lines), r.stdout
