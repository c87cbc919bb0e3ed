"""Ctrl-C / SIGTERM, time limits and reproducibility, with real processes and real signals.

A signal during the search stops it and the best plan found so far is written, marked as interrupted
(summary.json `interrupted`, `note`), and still passes the independent checker; the exit code is 128 + the
signal number. A signal before any plan exists writes nothing and says so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.check import check_plan
from planner.pipeline import BUNDLED_DATA, generate_site_folder

ROOT = Path(__file__).resolve().parent.parent


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TTY_INTERACTIVE": "0"}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(proc: subprocess.Popen[str], text: str, timeout: float = 120) -> list[str]:
    """Read stdout lines until one contains `text` (the process keeps running)."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never printed; got {seen}")


@pytest.mark.parametrize(("sig", "name", "code"), [(signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)])
def test_signal_during_search_writes_the_best_plan_marked_interrupted(
    tmp_path: Path, sig: signal.Signals, name: str, code: int
) -> None:
    out = tmp_path / "plan"
    proc = _start("solve", str(BUNDLED_DATA), "--out", str(out), "--time-limit", "120", "--workers", "1")
    _wait_for(proc, "phase 2")  # CP-SAT has a plan
    started = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - started < 30
    assert proc.returncode == code, stderr
    assert "Traceback" not in stdout + stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] == name
    assert summary["note"] == f"search stopped by {name}: the best plan found until then, not proven optimal"
    assert summary["status"] == "FEASIBLE"
    assert f"note: search stopped by {name}" in stdout
    assert check_plan(BUNDLED_DATA, out).violations == []


def test_signal_before_any_plan_writes_nothing(tmp_path: Path) -> None:
    """A 10x site takes seconds to load and build; a signal then finds no plan and must leave OUT alone."""
    data = tmp_path / "big"
    generate_site_folder(data, orders=1500, plants=100, years=2, seed=1)
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.txt").write_text("previous plan")
    proc = _start("solve", str(data), "--out", str(out), "--time-limit", "120", "--workers", "1")
    _wait_for(proc, "Loading")
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted (SIGINT) before any plan was found; nothing was written." in stderr
    assert "Traceback" not in stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "plan"]


def test_time_limit_is_honoured_within_a_second(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = subprocess.run([sys.executable, "-m", "cli", "solve", str(BUNDLED_DATA), "--out", str(out),
                           "--time-limit", "8", "--workers", "1", "--quiet"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("FEASIBLE", "GREEDY") and summary["interrupted"] is None
    assert summary["search_seconds"] <= 8 + 1.0
    assert check_plan(BUNDLED_DATA, out).violations == []


def test_same_seed_one_worker_deterministic_gives_byte_identical_gantt(tmp_path: Path) -> None:
    data = tmp_path / "site"
    generate_site_folder(data, orders=30, plants=4, years=1, seed=1)
    runs = []
    for k in range(2):
        out = tmp_path / f"plan{k}"
        done = subprocess.run([sys.executable, "-m", "cli", "solve", str(data), "--out", str(out), "--time-limit",
                               "2", "--workers", "1", "--seed", "7", "--deterministic", "--quiet"], cwd=ROOT,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        assert check_plan(data, out).violations == []
        runs.append((out / "gantt.csv").read_bytes())
    assert runs[0] == runs[1]
