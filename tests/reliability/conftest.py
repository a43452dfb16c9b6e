"""Fixtures of the reliability suite. tests/lib (the process harness) and this
directory (faultlib, the shared fault-injection helpers) go on sys.path."""
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

from faultlib import RedisServer, raise_nofile  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def enough_file_descriptors():
    """Thousands of client sockets in the idle-connection tests; children inherit it."""
    return raise_nofile(8192)


@pytest.fixture
def redis():
    with RedisServer() as server:
        yield server
