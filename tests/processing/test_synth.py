"""SynthMotion: deterministic generation, the HMI layout, captions that parse back to the script."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from macm.processing.synth import (
    ACTIONS,
    JOINT_NAMES,
    SynthConfig,
    action_phrase,
    caption_vocabulary,
    generate_clip,
    parse_caption,
    tokenize,
    write_dataset,
)
from macm.trainer.data import load_clip_frames, load_hmi_split

SMALL = SynthConfig(seed=3, size=48, frames=8)


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def load_png(path: Path) -> np.ndarray:
    return cv2.imread(str(path))[..., ::-1].astype(int)


def test_library_has_enough_actions_with_sides():
    assert len(ACTIONS) >= 15
    assert sum(spec.sided for spec in ACTIONS.values()) >= 10
    assert {"left_wrist", "right_ankle", "nose"} <= set(JOINT_NAMES)


def test_same_seed_gives_byte_identical_folders(tmp_path):
    """Metadata, card, frames, joints and videos are byte-identical (the videos are written reproducibly: one
    encoder thread, no x264 lookahead), and each video decodes to its own clip's frames within encoder noise."""
    from macm.processing.video import iter_frames

    write_dataset(tmp_path / "a", 6, SMALL, progress=False)
    write_dataset(tmp_path / "b", 6, SMALL, workers=2, progress=False)  # worker count does not matter
    digest_a, digest_b = _tree_digest(tmp_path / "a"), _tree_digest(tmp_path / "b")
    videos = sorted(name for name in digest_a if name.endswith(".mp4"))
    assert videos and any(name.endswith(".png") for name in digest_a)
    assert digest_a == digest_b

    rows = [json.loads(line) for line in (tmp_path / "a" / "train" / "metadata.jsonl").read_text().splitlines()]
    sources = {
        row["video"]: np.stack([load_png(tmp_path / "a" / name) for name in row["keyframe_files"]]) for row in rows
    }
    for video, source in sources.items():
        frames = np.stack([rgb for _, _, rgb in iter_frames(tmp_path / "a" / video, stride=1)]).astype(int)
        assert frames.shape == source.shape == (8, 48, 48, 3)
        encoder_noise = np.abs(frames - source).mean()
        other_clip = min(np.abs(frames - other).mean() for name, other in sources.items() if name != video)
        assert encoder_noise < 8.0 < other_clip

    other = write_dataset(tmp_path / "c", 6, SynthConfig(seed=4, size=48, frames=8), progress=False)
    first = json.loads((tmp_path / "a" / "train" / "metadata.jsonl").read_text().splitlines()[0])
    assert first["caption"] != next(iter(other.values()))[0]["caption"] or first["id"] != other["train"][0]["id"]


@pytest.mark.parametrize("name", ["nod", "shake_head", "wave", "clap"])
@pytest.mark.parametrize("frames", [4, 5, 7, 10, 16])
def test_every_repetition_lands_on_a_frame(name, frames):
    """A repeated movement's poses (up, down, up...) each show on a whole frame, so none falls between samples."""
    from macm.processing.synth.actions import ScheduledAction, _resolve

    phases, offsets = _resolve(ACTIONS[name].build(np.random.default_rng(0), frames), "left")
    action = ScheduledAction(name, "left" if ACTIONS[name].sided else "center", 0, frames, 0, phases, offsets)
    sampled = np.stack([action.offset_at(t) for t in range(frames)])
    assert len(phases) >= 4  # rest, at least two poses, rest
    for pose in offsets[1:-1]:
        assert np.abs(sampled - pose).max(axis=1).min() < 1e-9
    assert np.all(np.diff(phases) * (frames - 1) >= 1.0 - 1e-9)


def test_clip_does_not_depend_on_run_size():
    single = generate_clip(4, SMALL)
    from_larger_run = [generate_clip(i, SMALL) for i in range(5)][4]
    assert single.metadata == from_larger_run.metadata
    np.testing.assert_array_equal(single.rgb, from_larger_run.rgb)
    np.testing.assert_array_equal(single.motion, from_larger_run.motion)


def test_clip_contents_are_consistent():
    clip = generate_clip(0, SynthConfig(seed=0, size=64, frames=12))
    row = clip.metadata
    assert clip.rgb.shape == clip.motion.shape == (12, 64, 64, 3)
    assert clip.joints.shape == (12, 17, 3) and np.all(clip.joints[..., 2] > 0)  # in front of the camera
    assert not np.array_equal(clip.rgb, clip.motion)  # the skeleton is drawn over the frames
    assert 1 <= len({(a["start"], a["end"]) for a in row["actions"]}) <= 3
    for action in row["actions"]:
        assert 0 <= action["start"] < action["end"] <= 12
        assert action["side"] in ("left", "right", "center")
    assert sorted(parse_caption(row["caption"])) == sorted((a["name"], a["side"]) for a in row["actions"])
    assert {qa["type"] for qa in row["qa"]} <= {"open", "true_false"}
    assert all(qa["dimension"] == "details_of_movements" for qa in row["qa"])


def test_captions_stay_inside_the_vocabulary():
    vocabulary = set(caption_vocabulary())
    for index in range(30):
        row = generate_clip(index, SMALL).metadata
        texts = [row["caption"], *row["captions"]["fine"]]
        texts += [text for qa in row["qa"] for text in (qa["question"], qa["answer"])]
        for text in texts:
            assert set(tokenize(text)) <= vocabulary, text


def test_parse_caption_reads_every_phrase_and_ignores_other_words():
    for name, spec in ACTIONS.items():
        for side in ("left", "right") if spec.sided else ("center",):
            for variant in range(2):
                for form in ("third", "gerund"):
                    text = f"The person {action_phrase(name, side, form, variant)}."
                    assert parse_caption(text) == [(name, side)], text
    text = "In this clip, the person waves the left hand, then kicks with the right foot, and finally jumps up."
    assert parse_caption(text) == [("wave", "left"), ("kick", "right"), ("jump", "center")]
    assert parse_caption("the person kicks with the") == []  # a phrase cut short names nothing


def test_folder_loads_as_hmi_data(tmp_path):
    datasets = pytest.importorskip("datasets")
    splits = write_dataset(tmp_path / "ds", 20, SMALL, progress=False)
    assert set(splits) == {"train", "test"} and sum(len(rows) for rows in splits.values()) == 20
    loaded = datasets.load_dataset(str(tmp_path / "ds"))
    assert {name: len(part) for name, part in loaded.items()} == {k: len(v) for k, v in splits.items()}

    rows, root = load_hmi_split(str(tmp_path / "ds"), "train")
    keyframes, motion = load_clip_frames(rows[0], root)
    assert len(keyframes) == len(motion) == 8 and keyframes[0].shape == (48, 48, 3)
    joints = np.load(root / rows[0]["joints_file"])
    assert joints.shape == (8, 17, 3)
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "No pose estimator is in the loop" in card and "path: train/metadata.jsonl" in card


def test_cli_writes_the_folder(tmp_path, capsys):
    from macm.cli import main

    assert main(["synth", "--out", str(tmp_path / "cli"), "--num", "3", "--size", "32", "--frames", "4"]) == 0
    assert len(list((tmp_path / "cli" / "videos").glob("*.mp4"))) == 3
    capsys.readouterr()
    assert main(["synth", "--out", str(tmp_path / "bad"), "--num", "2", "--size", "33"]) == 2
    assert capsys.readouterr().err.strip() == "macm: error: `size` must be an even number of pixels >= 32, got 33"
