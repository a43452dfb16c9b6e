"""pytest plugin: a sanitizer report from a scalecache process fails the test.

Loaded by tests/sanitizers/run.sh with `-p sanitizer_check`. Every Scalecache
of tests/lib/harness.py writes its stderr to a log file; this plugin wraps
Scalecache.stop() so that, once the process has exited, its log is searched
for AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and
ThreadSanitizer reports. A report raises SanitizerReport carrying the report
text, which fails the test (or the fixture teardown) that stopped the process.
The suites stop every Scalecache they start, so every log is searched.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import harness  # noqa: E402

MARKERS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|"
    r"ThreadSanitizer: reported|runtime error:|ERROR: UndefinedBehaviorSanitizer")


class SanitizerReport(AssertionError):
    pass


def find_report(log_text: str) -> str | None:
    """The report around the first sanitizer marker in a log, or None."""
    match = MARKERS.search(log_text)
    if not match:
        return None
    start = max(0, log_text.rfind("\n", 0, max(0, match.start() - 200)))
    return log_text[start:start + 20000]


def _wrap_stop(original):
    def stop(self):
        was_running = self.proc is not None
        original(self)
        if was_running:
            report = find_report(self.log())
            if report:
                raise SanitizerReport(f"scalecache on port {self.port} logged a sanitizer report:\n{report}")
    stop.__wrapped__ = original
    return stop


def pytest_configure(config):
    if not hasattr(harness.Scalecache.stop, "__wrapped__"):
        harness.Scalecache.stop = _wrap_stop(harness.Scalecache.stop)
