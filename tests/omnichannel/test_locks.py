"""The dependency locks agree with requirements*.txt, read offline (CI also recompiles them: make lock-check)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]+\])?==([^\s;\\]+)", re.M)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    return {_name(name): version for name, version in _PIN.findall(path.read_text())}


def _entries(path: Path) -> list[str]:
    """One string per locked package: its pin line and the hash lines under it."""
    return re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("\n", 2)[2])


def test_every_pinned_requirement_is_locked_at_its_version():
    runtime, test = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-test.lock")
    for requirement, lock in (("requirements.txt", runtime), ("requirements-test.txt", test)):
        for name, version in _pins(ROOT / requirement).items():
            assert lock.get(name) == version, f"{requirement}: {name}=={version}, lock has {lock.get(name)}: make lock"


def test_the_test_lock_keeps_the_runtime_pins_and_every_package_has_hashes():
    runtime, test = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime
    for lock in ("requirements.lock", "requirements-test.lock"):
        for entry in _entries(ROOT / lock):
            assert "--hash=sha256:" in entry, f"{lock}: {entry.splitlines()[0]} has no hash"
