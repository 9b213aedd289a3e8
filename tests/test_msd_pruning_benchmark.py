"""`benchmarks/msd_pruning.py`: where the pathways disagree, what MSD did with the motion pathway's right token."""

from __future__ import annotations

import math

import pytest
import torch
from benchmark_scripts import load_benchmark

SETTINGS = {"alpha": (0.5, 0.2, 0.4, 0.8, 0.3, 2.0), "beta": 0.2, "theta": 2.0, "synergy": "reconstructed-v1"}


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("msd_pruning")


def logits(*rows: list[float]) -> torch.Tensor:
    return torch.tensor([[math.log(p) for p in row] for row in rows])


def test_positions_are_counted_by_who_is_right_and_what_msd_did(benchmark):
    # vocabulary of 4 tokens; the truth is token 1 at every position
    visual = logits(
        [0.70, 0.28, 0.01, 0.01],  # visual wrong but finds the truth plausible: MSD takes motion's token
        [0.90, 0.02, 0.04, 0.04],  # visual confident and wrong: the truth falls below the cutoff, pruned
        [0.10, 0.80, 0.05, 0.05],  # both agree on the truth
        [0.10, 0.80, 0.05, 0.05],  # visual right, motion wrong
    )
    motion = logits(
        [0.05, 0.90, 0.03, 0.02],
        [0.01, 0.97, 0.01, 0.01],
        [0.05, 0.90, 0.03, 0.02],
        [0.05, 0.10, 0.80, 0.05],
    )
    counts = benchmark.count_positions(visual, motion, torch.tensor([1, 1, 1, 1]), SETTINGS)
    result = benchmark.summarize(counts)
    assert result["positions"] == 4 and result["disagreements"] == 3
    assert result["motion_right_visual_wrong"] == 2 and result["visual_right_motion_wrong"] == 1
    assert result["msd_when_motion_right"] == {"chose_it": 1, "pruned_it": 1, "outscored_it": 0}
    assert result["token_accuracy"] == {"visual": 0.5, "motion": 0.75, "msd": 0.75}
    bins = {tuple(row["bin"]): row for row in result["visual_calibration"]}
    assert bins[(0.8, 1.0)]["positions"] == 3 and bins[(0.6, 0.8)]["positions"] == 1
    table = benchmark.markdown_table(result)
    assert "| ... MSD pruned it (visual p below the cutoff) | 1 | 50.0% |" in table
