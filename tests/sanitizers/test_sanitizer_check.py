"""sanitizer_check.py finds the start of every kind of report the sanitized builds can print.

Real reports, not copies: a small program is built with the same -fsanitize
flags as the build under test (SCALECACHE_SANITIZER, set by run.sh: asan means
address,undefined as in mk/hardening.mk, tsan means thread) and made to
misbehave in each way; its stderr must be recognised as a report. A report the
patterns miss would let a sanitized suite pass over a real defect.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sanitizer_check import find_report

KIND = os.environ.get("SCALECACHE_SANITIZER", "")
FLAGS = {"asan": "address,undefined", "tsan": "thread"}
# What each misbehaviour prints first (checked to be in the found report).
CASES = {
    "asan": {"heap_overflow": "ERROR: AddressSanitizer: heap-buffer-overflow",
             "leak": "ERROR: LeakSanitizer: detected memory leaks",
             "signed_overflow": "runtime error: signed integer overflow",
             "segv": "AddressSanitizer: SEGV"},
    "tsan": {"data_race": "WARNING: ThreadSanitizer: data race",
             "segv": "ThreadSanitizer: SEGV"},
}
PROGRAM = r"""
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
int shared_counter;
int main(int argc, char** argv) {
  const char* what = argv[1];
  if (!strcmp(what, "heap_overflow")) { int* p = new int[2]; int v = p[argc + 5]; delete[] p; return v; }
  if (!strcmp(what, "leak")) { void* volatile p = malloc(64); p = nullptr; return 0; }
  if (!strcmp(what, "signed_overflow")) { int x = INT_MAX - 1 + argc; return x + 1 > 0 ? 0 : 1; }
  if (!strcmp(what, "data_race")) { std::thread t([] { shared_counter++; }); shared_counter++; t.join(); return 0; }
  if (!strcmp(what, "segv")) { auto p = reinterpret_cast<volatile int*>(argc * 8); return *p; }  // not null: UBSan would report first
  return 0;
}
"""

pytestmark = pytest.mark.skipif(KIND not in FLAGS, reason="run by tests/sanitizers/run.sh asan|tsan")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sanitizer-report")
    (d / "misbehave.cpp").write_text(PROGRAM)
    subprocess.run([os.environ.get("CXX", "c++"), "-std=c++20", "-g", "-O0", f"-fsanitize={FLAGS[KIND]}",
                    "-fno-sanitize-recover=undefined", "-pthread", "-o", str(d / "misbehave"),
                    str(d / "misbehave.cpp")], check=True, timeout=120)
    return d / "misbehave"


@pytest.mark.parametrize("what", sorted(CASES.get(KIND, {"none": ""})))
def test_report_is_found(program, what):
    run = subprocess.run([str(program), what], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, f"{what}: the program did not fail:\n{run.stderr}"
    expected = CASES[KIND][what]
    assert expected in run.stderr, f"{what}: the runtime printed something else:\n{run.stderr}"
    report = find_report(run.stderr)
    assert report is not None, f"{what}: sanitizer_check.py does not recognise this report:\n{run.stderr}"
    assert expected in report, f"{what}: the report found starts after its first line:\n{report}"


def test_clean_output_is_no_report():
    assert find_report("scalecache listening on 127.0.0.1:8080\n{\"level\":\"warn\"}\n") is None
