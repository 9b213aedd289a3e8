"""Captioning a clip end to end: motion pathway -> processor -> generate (tiny random checkpoint)."""

import json

import pytest

from macm.cli import main


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, tiny_model, tiny_processor):
    folder = tmp_path_factory.mktemp("tiny-macm")
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def sample_clip(tmp_path_factory):
    from macm.processing.sample_clip import make_sample_clip

    return make_sample_clip(tmp_path_factory.mktemp("clip") / "sample.mp4", seconds=1.0, fps=10, size=(320, 180))


def _blazepose_or_skip():
    from macm.processing.pose import PoseBackendUnavailableError, get_pose_backend

    try:
        get_pose_backend("blazepose")
    except PoseBackendUnavailableError as error:
        pytest.skip(f"BlazePose model files unavailable: {error}")


def test_caption_motion_reports_msd_per_token(tiny_checkpoint, sample_clip):
    _blazepose_or_skip()
    from macm.processing.caption import caption_motion, load_captioner
    from macm.processing.pipeline import extract_motion

    model, processor = load_captioner(tiny_checkpoint)
    motion = extract_motion(sample_clip, num_keyframes=4, cache=False, progress=False)
    with_msd = caption_motion(model, processor, motion, msd=True, max_new_tokens=6)
    without = caption_motion(model, processor, motion, msd=False, max_new_tokens=6)
    assert with_msd.msd and len(with_msd.changed) == len(with_msd.tokens) == len(with_msd.step_synergy)
    assert without.changed is None and not without.msd
    assert "".join(with_msd.tokens).strip() == with_msd.caption


def test_caption_cli_json(tiny_checkpoint, sample_clip, capsys):
    _blazepose_or_skip()
    code = main(["caption", str(sample_clip), "--model", str(tiny_checkpoint), "--num-keyframes", "4",
                 "--max-new-tokens", "5", "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["msd"] is True and len(report["keyframes"]["indices"]) == 4
    assert "generate" in report["timings"] and report["timings"]["generate"] > 0


def test_caption_cli_without_model_is_a_clear_error(sample_clip, capsys, monkeypatch, tmp_path):
    from macm.processing import caption_cli

    monkeypatch.delenv("MACM_MODEL", raising=False)
    monkeypatch.setattr(caption_cli, "EMBEDDED_MODEL", tmp_path / "no-checkpoint-here")
    assert main(["caption", str(sample_clip)]) == 2
    assert "no model" in capsys.readouterr().err


def test_demo_main_job(tiny_checkpoint, tmp_path, capsys):
    _blazepose_or_skip()
    out = tmp_path / "demo"
    code = main(
        [
            "demo",
            "--no-serve",
            "--out",
            str(out),
            "--seconds",
            "1",
            "--num-keyframes",
            "4",
            "--model",
            str(tiny_checkpoint),
        ]
    )
    assert code == 0
    for name in (
        "contact_sheet.png",
        "overlay.mp4",
        "motion_000.png",
        "keyframes.json",
        "summary.json",
        "caption.json",
    ):
        assert (out / name).stat().st_size > 0, name
    captions = json.loads((out / "caption.json").read_text())
    assert captions["with_msd"]["msd"] and not captions["without_msd"]["msd"]
    assert "person in 100%" in capsys.readouterr().out
