"""Shared helpers for the test suite.

Everything a test needs is built in ``tmp_path`` by code or read from the repository
itself (``seeds/``, ``configs/``, ``annotations/label_config.xml``); nothing outside the
checkout is read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SRC = REPO_ROOT / "src"

if str(SRC) not in sys.path:  # a fresh checkout without `pip install -e .`
    sys.path.insert(0, str(SRC))

# "fast" keeps the whole suite well under a minute; HYPOTHESIS_PROFILE=thorough searches harder.
settings.register_profile("fast", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def run_script():
    """Run ``scripts/<name>`` with Hydra overrides in a subprocess; returns the CompletedProcess.

    The script runs in ``cwd`` (a tmp dir) so that Hydra's log files never land in the
    checkout; ``src`` is put on PYTHONPATH so that an uninstalled checkout works too.
    """

    def run(name: str, *overrides: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
        proc = _run_script(name, *overrides, cwd=cwd, timeout=timeout)
        assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        return proc

    return run


@pytest.fixture(scope="session")
def script_result():
    """Run ``scripts/<name>`` as a user would (no traceback asked for) and return the process, whatever its exit."""

    def run(name: str, *overrides: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
        return _run_script(name, *overrides, cwd=cwd, debug=False, env_extra=env)

    return run


def _run_script(
    name: str, *overrides: str, cwd: Path, timeout: int = 180, debug: bool = True, env_extra: dict | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    env["HF_DATASETS_OFFLINE"] = "1"
    env["HF_HUB_OFFLINE"] = "1"
    if debug:
        env.setdefault("HYDRA_FULL_ERROR", "1")
    else:
        env.pop("HYDRA_FULL_ERROR", None)
        env.pop("GOVREPORT_NER_DEBUG", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / name), *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def _result(start: int, end: int, label: str, text: str | None, rid: str) -> dict:
    value: dict = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual", "value": value}


class ExportBuilder:
    """Builds Label Studio export tasks by hand (the shape Label Studio's JSON export has)."""

    @staticmethod
    def result(start: int, end: int, label: str, text: str | None = None, rid: str = "r") -> dict:
        return _result(start, end, label, text, rid)

    @staticmethod
    def locate(text: str, substring: str, label: str, nth: int = 0, rid: str | None = None) -> dict:
        """A result for the ``nth`` occurrence of ``substring`` in ``text``."""
        start = -1
        for _ in range(nth + 1):
            start = text.index(substring, start + 1)
        return _result(start, start + len(substring), label, substring, rid or f"{label[:3]}{start}")

    @staticmethod
    def annotation(results: list[dict], ann_id: int = 1, cancelled: bool = False, updated_at: str = "") -> dict:
        ann = {"id": ann_id, "was_cancelled": cancelled, "result": results}
        if updated_at:
            ann["created_at"] = updated_at
            ann["updated_at"] = updated_at
        return ann

    @classmethod
    def task(
        cls,
        task_id,
        text: str,
        results: list[dict] | None = None,
        *,
        doc_id: str | None = None,
        region: str = "甲县",
        offset: int = 0,
        annotations: list[dict] | None = None,
    ) -> dict:
        if annotations is None:
            annotations = [cls.annotation(results or [])]
        return {
            "id": task_id,
            "data": {"text": text, "doc_id": doc_id or f"doc{task_id}", "region": region, "offset": offset},
            "annotations": annotations,
        }


@pytest.fixture(scope="session")
def ls() -> type[ExportBuilder]:
    return ExportBuilder
