"""Every (clip length, stride, keyframe count) either runs, clamped with a warning, or is refused before any work."""

from __future__ import annotations

import json
import logging
import math

import pytest

import macm.cli
from macm.processing import pipeline
from macm.processing.pipeline import extract_motion, plan_candidates

FRAMES = (1, 2, 5, 16)
STRIDES = (1, 2, 3, 7, 16, 20, 100_000)
KEYFRAMES = (1, 4, 16, 40)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, clip_factory):
    folder = tmp_path_factory.mktemp("stride-clips")
    return {n: clip_factory(folder / f"clip_{n}.mp4", num_frames=n, size=(64, 48)) for n in FRAMES}


@pytest.mark.parametrize("num_frames", FRAMES)
@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("num_keyframes", KEYFRAMES)
def test_plan_clamps_to_what_the_clip_gives(num_frames, stride, num_keyframes, caplog):
    with caplog.at_level(logging.WARNING, logger="macm.processing.pipeline"):
        planned_stride, planned_keyframes = plan_candidates(num_frames, stride, num_keyframes, "clip.mp4")
    candidates = math.ceil(num_frames / planned_stride)
    assert 1 <= planned_stride <= num_frames and planned_stride == min(stride, num_frames)
    assert planned_keyframes == min(num_keyframes, candidates)
    changed = (planned_stride, planned_keyframes) != (stride, num_keyframes)
    assert bool(caplog.records) == changed
    assert all(
        record.getMessage().startswith("clip.mp4: ") and "\n" not in record.getMessage() for record in caplog.records
    )


@pytest.mark.parametrize("num_frames", FRAMES)
@pytest.mark.parametrize("stride", STRIDES)
def test_extract_motion_survives_every_stride(clips, clip_backend, tmp_path, num_frames, stride, caplog):
    for num_keyframes in KEYFRAMES:
        result = extract_motion(
            clips[num_frames], backend=clip_backend, num_keyframes=num_keyframes, stride=stride, cache=False,
            progress=False, overlay_path=tmp_path / f"overlay_{num_keyframes}.mp4",
        )  # fmt: skip
        candidates = math.ceil(num_frames / min(stride, num_frames))
        assert result.stride == min(stride, num_frames) and result.track.num_frames == candidates
        assert len(result.keyframes) == len(result.motion_frames) == min(num_keyframes, candidates)
        assert (tmp_path / f"overlay_{num_keyframes}.mp4").stat().st_size > 0
        if num_keyframes > candidates:
            assert "keyframes asked but stride" in caplog.text


def test_cli_huge_stride_writes_every_output_and_warns(clip_factory, clip_backend, monkeypatch, tmp_path, caplog):
    clip = clip_factory(tmp_path / "sixteen.mp4", num_frames=16, size=(64, 48))
    monkeypatch.setattr(macm.cli, "COMMAND_MODULES", ("macm.processing.cli",))
    monkeypatch.setattr(pipeline, "get_pose_backend", lambda name, **kwargs: clip_backend)
    out = tmp_path / "out"
    assert (
        macm.cli.main(["motion", str(clip), "--out", str(out), "--stride", "100000", "--no-progress", "--no-cache"])
        == 0
    )
    assert json.loads((out / "keyframes.json").read_text())["stride"] == 16
    assert {"summary.json", "pose.npz", "overlay.mp4", "keyframe_000.png", "motion_000.png"} <= {
        path.name for path in out.iterdir()
    }
    assert "stride 100000 is longer than the clip (16 frames); using stride 16" in caplog.text


def test_cli_failure_after_the_overlay_leaves_no_output_folder(
    clip_factory, clip_backend, monkeypatch, tmp_path, capsys
):
    clip = clip_factory(tmp_path / "sixteen.mp4", num_frames=16, size=(64, 48))
    monkeypatch.setattr(macm.cli, "COMMAND_MODULES", ("macm.processing.cli",))
    monkeypatch.setattr(pipeline, "get_pose_backend", lambda name, **kwargs: clip_backend)
    empty_smpl = tmp_path / "smpl"
    empty_smpl.mkdir()
    out = tmp_path / "out"
    argv = ["motion", str(clip), "--out", str(out), "--smpl-dir", str(empty_smpl), "--no-progress", "--no-cache"]
    assert macm.cli.main(argv) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()
