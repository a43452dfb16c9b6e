"""tests/lib (the process harness) and tests/reliability (faultlib) on sys.path."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE.parent / "reliability"))
