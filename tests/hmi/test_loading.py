"""`load_hmi`: HMI-format folders and the published HMI-Bench layout through one helper, with decoded frames."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tiny_models

from macm.processing.hmi.loading import load_hmi

CAPTIONS = [
    {"video": "videos/a.mp4", "caption": "A person raises the left arm, then bends forward."},
    {"video": "videos/b.mp4", "caption": ["A person turns around.", "Someone turns to the right."]},
]
QA = [
    {"video": "videos/a.mp4", "qa": [{"q": "Which arm goes up?", "a": "The left arm.", "category": "details_of_movements"}]},
    {"video": "videos/b.mp4", "questions": [{"question": "Does the person turn?", "answer": "yes", "type": "T/F"}]},
]  # fmt: skip


def write_bench(root: Path, person_video: Path, captions=CAPTIONS, qa=QA) -> Path:
    (root / "videos").mkdir(parents=True, exist_ok=True)
    for item in captions:
        shutil.copy(person_video, root / item["video"])
    (root / "HMI-Bench.json").write_text(json.dumps(captions))
    if qa is not None:
        (root / "HMI-Bench-QA.json").write_text(json.dumps(qa))
    return root


@pytest.fixture()
def private_motion_cache(tmp_path, monkeypatch) -> Path:
    """`MACM_CACHE` in the test's folder, with the cached BlazePose model files linked in."""
    from macm.processing.pose import model_files

    try:
        models = model_files.find_blazepose_models()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    cache = tmp_path / "macm-cache"
    (cache / "blazepose").mkdir(parents=True)
    for path in (models.detector, models.landmarks):
        (cache / "blazepose" / path.name).symlink_to(path)
    monkeypatch.setenv("MACM_CACHE", str(cache))
    return cache


def test_hmi_bench_layout_loads_with_decoded_keyframes(tmp_path, person_video, private_motion_cache):
    bench = write_bench(tmp_path / "HMI-Bench", person_video)
    dataset, root = load_hmi(bench)
    assert root == bench.resolve() and dataset["video"] == ["videos/a.mp4", "videos/b.mp4"]
    assert dataset[1]["references"] == CAPTIONS[1]["caption"] and dataset[1]["caption"] == "A person turns around."
    assert dataset[0]["qa"] == [{"question": "Which arm goes up?", "answer": "The left arm.", "type": "open", "dimension": "details_of_movements"}]  # fmt: skip
    assert dataset[1]["qa"][0]["type"] == "true_false"

    decoded, _ = load_hmi(bench, decode_frames=True, num_keyframes=4)
    example = decoded[0]
    assert len(example["keyframes"]) == 4 and example["keyframes"][0].shape == (128, 128, 3)
    assert len(example["motion_frames"]) == 4
    assert any((private_motion_cache / "motion").rglob("pose.npz"))  # the pose work is cached


@pytest.mark.parametrize(
    "qa, message",
    [
        ("all good", r"HMI-Bench-QA.json: expected a list or an object of question/answer pairs, got str"),
        ({"videos/a.mp4": [{"text": "Which arm?"}]}, r"entry 'videos/a.mp4' question 0 has no question .*'text'"),
        (
            [{"video": "videos/a.mp4", "question": "Which arm?", "answer": "left", "type": "essay"}],
            "unknown question type 'essay'",
        ),  # fmt: skip
        (
            [{"video": "videos/zz.mp4", "question": "Which arm?", "answer": "left"}],
            "about 'videos/zz.mp4', which HMI-Bench.json lacks",
        ),  # fmt: skip
    ],
)
def test_a_malformed_qa_file_fails_with_what_it_found(tmp_path, person_video, qa, message):
    bench = write_bench(tmp_path / "HMI-Bench", person_video, qa=qa)
    with pytest.raises(ValueError, match=message):
        load_hmi(bench)


@pytest.mark.parametrize("video", ["../outside.mp4", "/etc/passwd", "videos/../../outside.mp4"])
def test_bench_videos_outside_the_folder_are_refused(tmp_path, video):
    bench = tmp_path / "HMI-Bench"
    bench.mkdir()
    (bench / "HMI-Bench.json").write_text(json.dumps([{"video": video, "caption": "A person walks."}]))
    with pytest.raises(ValueError, match=r"HMI-Bench.json: item 0: path .* escapes the dataset folder"):
        load_hmi(bench)


def test_hmi_folder_loads_with_pre_rendered_frames_and_refuses_escaping_paths(tmp_path):
    folder = tmp_path / "hmi"
    tiny_models.make_tiny_hmi_dataset(folder, num_clips=2, num_frames=2, size=24)
    dataset, root = load_hmi(folder, decode_frames=True)
    assert root == folder.resolve() and len(dataset) == 2
    assert dataset[0]["keyframes"][0].shape == (24, 24, 3) and len(dataset[0]["motion_frames"]) == 2

    bad = tmp_path / "bad"
    tiny_models.make_tiny_hmi_dataset(bad, num_clips=2, num_frames=2, size=24)
    metadata = bad / "train" / "metadata.jsonl"
    rows = [json.loads(line) for line in metadata.read_text().splitlines()]
    rows[1]["keyframe_files"][0] = "../../secrets.png"
    metadata.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(
        ValueError, match=r"row 1 `keyframe_files`: path '../../secrets.png' escapes the dataset folder"
    ):
        load_hmi(bad)
