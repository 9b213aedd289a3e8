"""`benchmarks/synthmotion_probe.py`: the learnability probes run end to end and score what they should."""

from __future__ import annotations

import json
import subprocess
import sys

import torch
from benchmark_scripts import BENCHMARKS, load_benchmark

SCRIPT = BENCHMARKS / "synthmotion_probe.py"


def _probe_module():
    return load_benchmark("synthmotion_probe")


def test_recall_at_k_counts_the_clips_pairs_among_its_top_k():
    probe = _probe_module()
    targets = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    assert probe.recall_at_k(targets * 5, targets) == 1.0
    scores = torch.tensor([[3.0, 2.0, 0.0, 1.0], [0.0, 1.0, 2.0, 0.0]])  # one of two, then none of one
    assert abs(probe.recall_at_k(scores, targets) - 1 / 3) < 1e-9


def test_pose_sequences_are_hip_centred_and_scale_free():
    probe = _probe_module()
    pixels = torch.rand(3, 4, 17, 2) * 90
    sequences = probe.pose_sequences({"pixels_2d": pixels}, "pixels_2d")
    assert sequences.shape == (3, 4, 2 * 17 * 2)
    shifted_scaled = probe.pose_sequences({"pixels_2d": pixels * 0.5 + 7.0}, "pixels_2d")
    assert torch.allclose(sequences, shifted_scaled, atol=1e-5)
    assert torch.allclose(sequences[:, 0, 34:], torch.zeros(3, 34))  # the first frame's offset from itself


def test_probe_runs_on_a_small_synthmotion_folder(tmp_path):
    from macm.processing.synth import SynthConfig, write_dataset

    rows = write_dataset(tmp_path / "synth", 24, SynthConfig(seed=11, test_fraction=0.3), progress=False)
    assert rows.get("test"), "the seed must put some clips in the test split"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--data",
            str(tmp_path / "synth"),
            "--cnn-epochs",
            "1",
            "--pose-steps",
            "8",
            "--pose-tower-steps",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["classes"] == 37 and result["frames_per_clip"] == 16
    assert result["train_clips"] + result["test_clips"] == 24
    scores = [result["baseline"], *result["tower_linear"].values(), result["cnn"]["motion"]["recall"]]
    assert set(result["tower_linear"]) == {"visual", "motion"} and all(0.0 <= s <= 1.0 for s in scores)
    assert len(result["cnn"]["motion"]["recall_per_epoch"]) == 1
    assert set(result["pose_temporal"]) == {"pixels_2d", "joints_3d"}
    assert set(result["pose_tower"]["joint_patch_accuracy"]) == {"visual", "motion"}
    learned = [*result["pose_temporal"].values(), result["pose_tower"]["visual"], result["pose_tower"]["motion"]]
    assert all(len(probe["recall_per_quarter"]) == 4 and 0.0 <= probe["recall"] <= 1.0 for probe in learned)
