import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from harness import RedisServer


@pytest.fixture
def redis():
    with RedisServer() as server:
        yield server
