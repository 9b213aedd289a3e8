"""The Space's request without a browser: `inference.analyze`, the app's `run` handler, the model line, plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from space.validation import Limits, MsdSettings

pytestmark = pytest.mark.usefixtures("blazepose")


def collect(generator):
    updates = list(generator)
    assert updates and updates[-1].done
    return updates


def last(updates, name):
    values = [getattr(update, name) for update in updates if getattr(update, name) is not None]
    return values[-1] if values else None


def test_analyze_captions_a_synthmotion_clip_with_and_without_msd(space_app, synth_clip, tmp_path):
    from space import checkpoint, inference

    clip, _ = synth_clip
    options = inference.Options(prompt="What does the person do?", num_keyframes=8, max_new_tokens=6)
    stages = []
    updates = collect(
        inference.analyze(
            str(clip), options, Limits(), tmp_path, space_app.BACKENDS, lambda f, d: stages.append((f, d))
        )
    )
    assert [f for f, _ in stages] == sorted(f for f, _ in stages) and stages[-1] == (1.0, "done")
    overlay = Path(last(updates, "overlay"))
    assert overlay.stat().st_size > 0 and overlay.name == "overlay_x2.mp4"  # 192 px clip enlarged for the page
    gallery = last(updates, "gallery")
    assert len(gallery) == 8 and gallery[0][0].shape[1] > 2 * gallery[0][0].shape[0]  # RGB | gap | motion frame
    assert last(updates, "synergy") is not None and last(updates, "timeline") is not None
    streamed = [
        u.caption_msd for u in updates if u.caption_msd and u.caption_msd[0][1] is None and len(u.caption_msd) == 1
    ]
    assert streamed, "the caption with MSD is streamed as it grows"
    record = json.loads(Path(last(updates, "json_path")).read_text())
    loaded = checkpoint.current_model()
    assert record["model"] == loaded.source and record["embedded_model"] is loaded.embedded
    with_msd, without = record["captions"]["with_msd"], record["captions"]["without_msd"]
    assert len(with_msd["tokens"]) == len(with_msd["changed"]) == len(with_msd["step_synergy"]) > 0
    assert "".join(with_msd["tokens"]) == with_msd["caption"]  # word-level pieces keep their spaces
    assert "changed" not in without
    spans = last(updates, "caption_msd")
    assert "".join(text for text, _ in spans) == with_msd["caption"]
    assert {label for _, label in spans} <= {None, inference.CHANGED_LABEL}
    assert record["options"]["msd"]["msd_alpha"] == [float(a) for a in loaded.model.config.msd_alpha]
    assert f"captioned by `{loaded.name}`" in updates[-1].status


def test_msd_off_gives_one_caption(space_app, synth_clip, tmp_path):
    from space import inference

    options = inference.Options(num_keyframes=4, max_new_tokens=3, msd=MsdSettings(enabled=False))
    updates = collect(inference.analyze(str(synth_clip[0]), options, Limits(), tmp_path, space_app.BACKENDS))
    record = json.loads(Path(last(updates, "json_path")).read_text())
    assert list(record["captions"]) == ["without_msd"] and record["options"]["msd"] is None
    assert "MSD is off" in last(updates, "caption_msd")[0][0]
    assert any(issue.field == "prompt" for update in updates for issue in update.issues)  # empty prompt warns
    assert record["question"] == "Describe the person's movements in detail."  # the training instruction


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        ("text", "could not be read as a video"),
        ("empty", "could not be read as a video: file is empty"),
        ("one_frame", "only 1 frame; describing a motion needs at least 4 frames"),
    ],
)
def test_bad_uploads_raise_request_errors(space_app, bad_uploads, tmp_path, upload, words):
    from space import inference

    options = inference.Options(num_keyframes=2, max_new_tokens=2)
    with pytest.raises(inference.RequestError, match=words):
        list(inference.analyze(str(bad_uploads[upload]), options, Limits(), tmp_path, space_app.BACKENDS))


def test_long_and_missing_videos_are_refused(space_app, synth_clip, tmp_path):
    from space import inference

    options = inference.Options(num_keyframes=2, max_new_tokens=2)
    with pytest.raises(inference.RequestError, match="2.0 s long; this Space accepts up to 1.5 s"):
        list(inference.analyze(str(synth_clip[0]), options, Limits(max_seconds=1.5), tmp_path, space_app.BACKENDS))
    with pytest.raises(inference.RequestError, match="Upload a video"):
        list(inference.analyze(None, options, Limits(), tmp_path, space_app.BACKENDS))


def test_no_person_is_a_visible_notice_and_still_captioned(space_app, no_person_clip, tmp_path):
    from space import inference

    options = inference.Options(prompt="Describe.", num_keyframes=4, max_new_tokens=2)
    updates = collect(inference.analyze(str(no_person_clip), options, Limits(), tmp_path, space_app.BACKENDS))
    warnings = [issue.message for update in updates for issue in update.issues]
    assert any("No person was found" in message for message in warnings)
    assert "No person was found" in updates[-1].status
    record = json.loads(Path(last(updates, "json_path")).read_text())
    assert record["summary"]["no_person"] and set(record["captions"]) == {"with_msd", "without_msd"}
    assert record["keyframe_indices"] == sorted(record["keyframe_indices"]) and len(record["keyframe_indices"]) == 4


def test_app_run_streams_outputs_and_removes_its_files(space_app, synth_clip, monkeypatch):
    from space import inference

    made = []
    new_workdir = inference.new_workdir
    monkeypatch.setattr(inference, "new_workdir", lambda: made.append(new_workdir()) or made[-1])
    outputs = list(
        space_app.run(str(synth_clip[0]), "Describe.", "blazepose", 2, True, "0.5,0.2,0.4,0.8,0.3,2", 0.2, 2.0,
                      "reconstructed-v1", 4, progress=lambda *a, **k: None)
    )  # fmt: skip
    assert all(len(output) == len(space_app.OUTPUTS) for output in outputs)
    assert outputs[0][1] is None and outputs[0][2] == []  # the previous answer is cleared first
    assert outputs[-1][-1].endswith("macm_result.json")
    assert made and not made[0].exists()  # cleaned once the request ended


@pytest.mark.filterwarnings("ignore:This file could not be read:UserWarning")  # gr.Warning outside a page
def test_app_run_reports_request_errors_in_the_status_line(space_app, bad_uploads):
    outputs = list(
        space_app.run(str(bad_uploads["text"]), "", "blazepose", 2, True, "1,2,3", 0.2, 2.0, "reconstructed-v1", 4,
                      progress=lambda *a, **k: None)
    )  # fmt: skip
    assert len(outputs) == 2  # the clearing update, then the reason
    assert "Cannot caption this video" in outputs[-1][0] and "could not be read as a video" in outputs[-1][0]
    assert "MSD alpha must be six" in outputs[-1][0]  # every error at once, not one per attempt


def test_model_line_names_the_model(tmp_path):
    from space import checkpoint

    assert checkpoint.resolve_model_source({"MACM_MODEL": "org/model"}, tmp_path) == ("org/model", False)
    assert checkpoint.resolve_model_source({}, tmp_path) == (None, False)
    (tmp_path / "config.json").write_text("{}")
    assert checkpoint.resolve_model_source({}, tmp_path) == (str(tmp_path), True)
    assert (
        "knows only those synthetic motions" in checkpoint.LoadedModel(str(tmp_path), True, model=object()).describe()
    )
    assert "`org/model`" in checkpoint.LoadedModel("org/model", False, model=object()).describe()
    assert "No captioning model" in checkpoint.LoadedModel(None, False).describe()
    broken = checkpoint.load_model(str(tmp_path / "missing"))
    assert not broken.ready and "could not be loaded" in broken.describe()


def test_highlighted_merges_neighbours():
    from space.inference import CHANGED_LABEL, highlighted

    assert highlighted(["the", " person", " waves", " the"], [False, False, True, False]) == [
        ("the person", None),
        (" waves", CHANGED_LABEL),
        (" the", None),
    ]
    assert highlighted(["a", "b"], None) == [("ab", None)]


def test_limb_activity_sees_which_limb_moves():
    import numpy as np

    from macm.processing.pose import COCO17_NAMES, PoseTrack
    from space import plots

    frames = 6
    keypoints = np.zeros((frames, 17, 3), np.float32)
    layout = {"nose": (50, 10), "left_ear": (54, 10), "right_ear": (46, 10), "left_shoulder": (60, 25),
              "right_shoulder": (40, 25), "left_elbow": (62, 40), "right_elbow": (38, 40), "left_wrist": (64, 55),
              "right_wrist": (36, 55), "left_hip": (56, 60), "right_hip": (44, 60), "left_knee": (56, 75),
              "right_knee": (44, 75), "left_ankle": (56, 90), "right_ankle": (44, 90)}  # fmt: skip
    for name, (x, y) in layout.items():
        keypoints[:, COCO17_NAMES.index(name)] = (x, y, 1.0)
    keypoints[:, COCO17_NAMES.index("left_wrist"), 1] -= np.arange(frames) * 5  # only the left arm rises
    track = PoseTrack(np.arange(frames), np.arange(frames) / 8, keypoints, COCO17_NAMES, (100, 100),
                      np.ones(frames, np.int64), np.zeros((frames, 4), np.float32))  # fmt: skip
    times, activity = plots.limb_activity(track)
    assert times.shape == (frames - 1,) and activity.shape == (len(plots.LIMBS), frames - 1)
    moving = dict(zip(plots.LIMBS, activity.mean(axis=1), strict=True))
    assert moving["left arm"] > 0 and all(v == 0 for k, v in moving.items() if k != "left arm")
    timeline = plots.motion_timeline(track).axes[0]
    assert "left arm" in [label.get_text() for label in timeline.get_yticklabels()]


def test_plots_handle_empty_and_personless_inputs():
    import numpy as np

    from macm.processing.pose import COCO17_NAMES, PoseTrack
    from space import plots

    assert "no tokens" in plots.synergy_strip([], [], []).axes[0].texts[0].get_text()
    track = PoseTrack(
        frame_indices=np.arange(3),
        timestamps=np.arange(3) / 10,
        keypoints=np.zeros((3, 17, 3), np.float32),
        keypoint_names=COCO17_NAMES,
        image_size=(32, 32),
        person_counts=np.zeros(3, np.int64),
        bboxes=np.full((3, 4), np.nan, np.float32),
    )
    assert "no person" in plots.motion_timeline(track).axes[0].texts[0].get_text()
