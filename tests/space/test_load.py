"""Load on `macm demo` (a separate server process): `benchmarks/space_load.py` at a small size. Every request completes
or is refused with the queue-full message, the server stays up and answers afterwards, and its memory comes back to
the baseline (no growth from round to round)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 6
QUEUE_SIZE = 2
MAX_GROWTH_MIB = 64  # measured: 16-22 MiB over six rounds (without the per-request malloc_trim: 250 MiB)

pytestmark = pytest.mark.usefixtures("blazepose")


def test_concurrent_requests_complete_or_are_refused_and_memory_returns(space_model, synth_clip):
    command = [
        sys.executable,
        str(REPO_ROOT / "benchmarks" / "space_load.py"),
        "--requests", str(REQUESTS), "--queue-size", str(QUEUE_SIZE), "--rounds", "2", "--warmup", "2",
        "--keyframes", "4", "--max-new-tokens", "2", "--settle", "1",
        "--model", str(space_model.path), "--clip", str(synth_clip[0]),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout[run.stdout.index("{") :])
    for round_ in report["rounds"]:
        assert round_["failed"] == 0, round_["failures"]
        assert round_["completed"] + round_["refused_queue_full"] == REQUESTS
        # one runs and QUEUE_SIZE wait, so some of the six arriving together are turned away, not left hanging
        assert round_["completed"] >= 1 and round_["refused_queue_full"] >= 1
    assert report["server_alive_after"] and report["follow_up_request"] == "completed"
    assert report["rss_mib"]["after_minus_baseline"] < MAX_GROWTH_MIB, report["rss_mib"]
