"""Shared pytest configuration: every module in tests/support/ is a fixture plugin."""

from pathlib import Path

pytest_plugins = sorted(
    f"tests.support.{path.stem}"
    for path in (Path(__file__).parent / "support").glob("*.py")
    if not path.stem.startswith("_")
)
