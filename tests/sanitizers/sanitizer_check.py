"""pytest plugin: a sanitizer report from a scalecache process fails the test.

Loaded by tests/sanitizers/run.sh with `-p sanitizer_check`. Every Scalecache
of tests/lib/harness.py writes its stderr to a log file; this plugin wraps
Scalecache.stop() so that, once the process has exited, its log is searched
for AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and
ThreadSanitizer reports. A report fails the test phase (setup, call or
teardown) that stopped the process, with the report as the failure text.
The suites stop every Scalecache they start, so every log is searched.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import harness

# The first line of a report of each sanitizer: "==PID==ERROR: AddressSanitizer: ...",
# "ERROR: LeakSanitizer: ...", "WARNING: ThreadSanitizer: data race", a signal
# ("ERROR: ThreadSanitizer: SEGV", preceded by "ThreadSanitizer:DEADLYSIGNAL"),
# "FATAL: ThreadSanitizer: ...", an internal "CHECK failed", UBSan's
# "file:line: runtime error: ...", and the closing summary lines.
_NAMES = r"(?:Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer"
MARKERS = re.compile(
    rf"(?:ERROR|WARNING|FATAL): {_NAMES}|{_NAMES}:DEADLYSIGNAL|{_NAMES}: CHECK failed|"
    rf"SUMMARY: {_NAMES}|ThreadSanitizer: reported|runtime error:")


_pending: list[str] = []


def find_report(log_text: str) -> str | None:
    """The report around the first sanitizer marker in a log, or None."""
    match = MARKERS.search(log_text)
    if not match:
        return None
    start = max(0, log_text.rfind("\n", 0, max(0, match.start() - 200)))
    return log_text[start:start + 20000]


def _wrap_stop(original):
    # Never raises: callers such as harness.Fleet stop several processes in a
    # row, and an exception here would leave the rest running.
    def stop(self):
        was_running = self.proc is not None
        original(self)
        if was_running:
            report = find_report(self.log())
            if report:
                _pending.append(f"scalecache on port {self.port} logged a sanitizer report:\n{report}")
    stop.__wrapped__ = original
    return stop


def pytest_configure(config):
    if not hasattr(harness.Scalecache.stop, "__wrapped__"):
        harness.Scalecache.stop = _wrap_stop(harness.Scalecache.stop)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fails the phase (setup, call or teardown) in which a process with a report was stopped,
    whatever the test's own outcome, xfail included."""
    outcome = yield
    if _pending:
        report = outcome.get_result()
        report.outcome = "failed"
        report.longrepr = "\n\n".join(_pending)
        if hasattr(report, "wasxfail"):
            del report.wasxfail
        _pending.clear()


def pytest_sessionfinish(session, exitstatus):
    if _pending:  # stopped after the last test's teardown report
        print("\n".join(_pending), file=sys.stderr)
        session.exitstatus = 1
