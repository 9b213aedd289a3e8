"""`benchmarks/synthmotion.py` scoring: a caption's own script versus other clips' scripts (the grounding control)."""

from __future__ import annotations

import pytest
from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("synthmotion")


@pytest.fixture(scope="module")
def clips():
    from macm.processing.synth import SynthConfig, generate_clip

    config = SynthConfig(seed=3, size=48, frames=8)
    return [generate_clip(index, config).metadata for index in range(8)]


def test_true_captions_score_full_marks_and_less_against_other_clips(benchmark, clips):
    captions, scripts = [clip["caption"] for clip in clips], [clip["actions"] for clip in clips]
    own = sum(
        (benchmark.score_caption(c, s) for c, s in zip(captions, scripts, strict=True)), start=benchmark.Counter()
    )
    assert benchmark.summarize(own, len(clips))["action_accuracy"] == 1.0
    control = benchmark.grounding_control(captions, scripts)
    assert control["distinct_captions"] == len(set(captions)) > 1
    assert control["action_accuracy_other_clips"] < 0.6  # 8 clips of 22 actions rarely share theirs


def test_a_caption_that_ignores_its_clip_scores_the_same_against_other_clips(benchmark, clips):
    scripts = [clip["actions"] for clip in clips]
    constant = [clips[0]["caption"]] * len(clips)
    # with every shift, each script is met N - 1 times: the control is the caption's accuracy over all scripts
    control = benchmark.grounding_control(constant, scripts, shifts=len(clips) - 1)
    everyone = sum((benchmark.score_caption(constant[0], script) for script in scripts), start=benchmark.Counter())
    assert control["distinct_captions"] == 1
    assert control["action_accuracy_other_clips"] == benchmark.summarize(everyone, len(clips))["action_accuracy"]


def test_msd_followed_counts_only_live_steps_where_the_pathways_differ(benchmark):
    from types import SimpleNamespace

    import torch

    eos = 9
    generated = torch.tensor([[1, 2, 3, eos, 0], [4, 5, eos, 0, 0]])
    msd = SimpleNamespace(
        visual_top=torch.tensor([[1, 7, 3, 8, 5], [4, 6, 2, 5, 5]]),
        motion_top=torch.tensor([[1, 2, 6, 9, 6], [4, 5, 3, 6, 6]]),
        msd_top=torch.tensor([[1, 2, 3, 9, 6], [4, 5, 3, 6, 6]]),
    )
    # live steps: row 0 up to and with its end token (4 steps), row 1 its first 3; they differ at (0,1), (0,2),
    # (0,3), (1,1), (1,2): MSD took motion's at (0,1), (0,3), (1,1), (1,2), visual's at (0,2)
    counts = benchmark.followed_counts(msd, generated, eos)
    assert counts == {"disagreements": 5, "visual": 1, "motion": 4}
    table = benchmark.followed_table({"msd": {"msd_followed": dict(counts)}, "motion": {}})
    assert "| msd | 5 | 1 (20%) | 4 (80%) | 0 (0%) |" in table and "| motion |" not in table
