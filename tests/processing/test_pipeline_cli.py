"""`extract_motion` and `macm motion` end to end, with a pose backend that finds the synthetic clip's stick figure."""

import argparse
import json
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

import macm.cli
from macm.processing import cli as motion_cli
from macm.processing import pipeline
from macm.processing import pose as pose_module
from macm.processing.cache import MotionCache, cache_key
from macm.processing.motion_frames import MotionFrameSettings
from macm.processing.pipeline import extract_motion
from macm.processing.pose import PoseBackend, PoseBackendUnavailableError, PoseTrack, get_pose_backend


def test_extract_motion(clip_person, clip_backend, clip_cache_dir, clip_pose_fn, tmp_path):
    result = extract_motion(
        clip_person,
        backend=clip_backend,
        num_keyframes=6,
        progress=False,
        overlay_path=tmp_path / "overlay.mp4",
        motion_frame_settings=MotionFrameSettings("overlay"),
    )
    assert result.stride == 3 and result.track.num_frames == 20 and clip_backend.calls == 20
    # keyframes: distinct candidate frames in temporal order, with their own timestamps and images
    assert len(result.keyframe_indices) == 6 and np.all(np.diff(result.keyframe_indices) > 0)
    assert set(result.keyframe_indices.tolist()) <= set(range(0, 60, 3))
    np.testing.assert_allclose(result.keyframe_timestamps, result.keyframe_indices / 30, atol=1e-6)
    for index, keyframe, motion in zip(result.keyframe_indices, result.keyframes, result.motion_frames, strict=True):
        assert keyframe.shape == motion.shape == (120, 160, 3)
        x, y = clip_pose_fn(int(index), 160, 120)[7].round().astype(int)  # left elbow
        assert np.abs(motion[y, x].astype(int) - keyframe[y, x]).sum() > 30  # the body is drawn there
        assert (motion[100:, 150:] == keyframe[100:, 150:]).all()  # and not far from it
    # the track holds the figure's joints
    np.testing.assert_allclose(result.track.keypoints[4, :, :2], clip_pose_fn(12, 160, 120), atol=1e-3)
    summary = result.summary
    assert summary["person_fraction"] == 1.0 and summary["single_person_fraction"] == 1.0
    assert summary["body_visible_fraction"] == 1.0 and summary["flags"] == []
    assert 0 < summary["bbox_area_fraction"] < 1 and summary["duration"] == pytest.approx(2.0, abs=0.05)
    with av.open(str(tmp_path / "overlay.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 20


def test_default_motion_frames_are_person_centred_masks(clip_person, clip_backend, clip_cache_dir, clip_pose_fn):
    result = extract_motion(clip_person, backend=clip_backend, num_keyframes=4, progress=False, cache=False)
    assert result.motion_frame_settings.style == "mask"
    keypoints = result.keyframe_keypoints
    assert keypoints.shape == (4, 17, 3) and (keypoints[..., 2] > 0).all()
    for row, (index, motion) in enumerate(zip(result.keyframe_indices, result.motion_frames, strict=True)):
        assert motion.shape == (256, 256, 3)
        assert (motion[:8] == 0).all() and (motion[:, :8] == 0).all()  # plain background at the border
        drawn = (motion.sum(axis=-1) > 0).mean()
        assert 0.03 < drawn < 0.6  # the body fills a good part of the crop, not all of it
        # the joints handed to a joints motion encoder are the keyframe's own
        np.testing.assert_allclose(keypoints[row, :, :2], clip_pose_fn(int(index), 160, 120), atol=1e-3)


def test_cache_skips_pose_work_and_keys_on_settings(clip_person, clip_backend, clip_cache_dir):
    first = extract_motion(clip_person, backend=clip_backend, num_keyframes=5, progress=False)
    assert not first.from_cache and clip_backend.calls == 20
    second = extract_motion(clip_person, backend=clip_backend, num_keyframes=5, progress=False)
    assert second.from_cache and clip_backend.calls == 20
    np.testing.assert_array_equal(second.keyframe_indices, first.keyframe_indices)
    np.testing.assert_array_equal(second.track.keypoints, first.track.keypoints)
    for a, b in zip(first.motion_frames, second.motion_frames, strict=True):
        np.testing.assert_array_equal(a, b)
    extract_motion(clip_person, backend=clip_backend, num_keyframes=4, progress=False)  # other settings: recomputed
    assert clip_backend.calls == 40
    extract_motion(clip_person, backend=clip_backend, num_keyframes=4, progress=False, cache=False)
    assert clip_backend.calls == 60
    assert len(list((clip_cache_dir / "motion").glob("*/*/pose.npz"))) == 2


def test_cache_key_is_canonical(tmp_path):
    assert cache_key("abc", {"a": 1, "b": [1, 2]}) == cache_key("abc", {"b": [1, 2], "a": 1})
    assert cache_key("abc", {"a": 1}) != cache_key("abd", {"a": 1})
    assert cache_key("abc", {"a": 1}) != cache_key("abc", {"a": 2})
    store = MotionCache(tmp_path)
    assert store.load("0" * 64) is None


def test_pose_backend_registry(tmp_path, monkeypatch):
    (tmp_path / "macm_test_backends.py").write_text(
        "import numpy as np\n"
        "from macm.processing.pose import PoseBackend\n"
        "class Ok(PoseBackend):\n"
        "    name = 'ok'\n"
        "    def __init__(self, threshold=0.5):\n"
        "        self.threshold = threshold\n"
        "    def detect(self, image):\n"
        "        return []\n"
        "class NoModel(Ok):\n"
        "    def __init__(self):\n"
        "        raise FileNotFoundError('model.onnx not found')\n"
    )
    (tmp_path / "macm_test_needs_dep.py").write_text("import macm_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(pose_module.POSE_BACKENDS, "ok", ("macm_test_backends", "Ok"))
    monkeypatch.setitem(pose_module.POSE_BACKENDS, "nomodel", ("macm_test_backends", "NoModel"))
    monkeypatch.setitem(pose_module.POSE_BACKENDS, "ghost", ("macm_test_ghost_module", "Ghost"))
    monkeypatch.setitem(pose_module.POSE_BACKENDS, "needsdep", ("macm_test_needs_dep", "Backend"))

    backend = get_pose_backend("ok", threshold=0.25)
    assert isinstance(backend, PoseBackend) and backend.threshold == 0.25
    with pytest.raises(ValueError, match="Unknown pose backend 'openpose'"):
        get_pose_backend("openpose")
    for name, reason in [
        ("ghost", "not part of this installation"),
        ("needsdep", "needs 'macm_dependency_that_is_not_installed'"),
        ("nomodel", "model.onnx not found"),
    ]:
        with pytest.raises(PoseBackendUnavailableError, match=reason):
            get_pose_backend(name)


def test_no_person_clip_is_flagged_not_fatal(clip_empty_scene, clip_backend, clip_cache_dir):
    result = extract_motion(clip_empty_scene, backend=clip_backend, num_keyframes=4, progress=False)
    assert result.summary["no_person"] and result.summary["flags"] == ["no_person"] and not result.has_person
    assert result.summary["person_counts"] == [0] * 10
    np.testing.assert_array_equal(result.keyframe_track_indices, [1, 3, 6, 8])  # uniform
    for motion in result.motion_frames:  # no body: plain masks
        assert motion.shape == (256, 256, 3) and not motion.any()


# ---------------------------------------------------------------- command line


@pytest.fixture()
def run_cli(monkeypatch, clip_cache_dir, clip_backend):
    """`macm.cli.main` with only the motion command, whose pose backend is the stick-figure finder."""
    monkeypatch.setattr(macm.cli, "COMMAND_MODULES", ("macm.processing.cli",))
    monkeypatch.setattr(pipeline, "get_pose_backend", lambda name, **kwargs: clip_backend)

    def run(*argv):
        return macm.cli.main([*map(str, argv), "--no-progress"])

    return run


def test_cli_writes_every_output(run_cli, clip_person, tmp_path, clip_backend):
    out = tmp_path / "out"
    assert run_cli("motion", clip_person, "--out", out, "--num-keyframes", "5") == 0
    keyframes = json.loads((out / "keyframes.json").read_text())
    assert len(keyframes["indices"]) == len(keyframes["timestamps"]) == 5
    np.testing.assert_allclose(keyframes["timestamps"], np.array(keyframes["indices"]) / 30, atol=1e-6)
    track = PoseTrack.load_npz(out / "pose.npz")
    assert track.keypoints.shape == (20, 17, 3) and track.backend == "stickfigure"
    for i in range(5):
        motion = cv2.imread(str(out / f"motion_{i:03d}.png"))
        keyframe = cv2.imread(str(out / f"keyframe_{i:03d}.png"))
        assert keyframe.shape == (120, 160, 3) and motion.shape == (256, 256, 3) and motion.any()  # masks
    assert not (out / "motion_005.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["single_person_fraction"] == 1.0 and summary["fps"] == 30.0 and summary["backend"] == "stickfigure"
    assert summary["video"]["width"] == 160 and summary["num_keyframes"] == 5
    with av.open(str(out / "overlay.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 20


def test_cli_stride_and_register(clip_person, tmp_path, monkeypatch, clip_backend, clip_cache_dir):
    monkeypatch.setattr(pipeline, "get_pose_backend", lambda name, **kwargs: clip_backend)
    parser = argparse.ArgumentParser(prog="macm")
    motion_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["motion", str(clip_person), "--out", str(tmp_path), "--stride", "10", "--no-overlay"])
    assert args.func(args) == 0 and clip_backend.calls == 6
    assert not (tmp_path / "overlay.mp4").exists()
    assert json.loads((tmp_path / "keyframes.json").read_text())["indices"] == [0, 10, 20, 30, 40, 50]
    with pytest.raises(SystemExit):
        parser.parse_args(["motion", str(clip_person), "--out", str(tmp_path), "--num-keyframes", "0"])


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("clip_zero_byte", "empty"),
        ("clip_truncated", "not a readable video"),
        ("clip_text", "not a readable video"),
        ("clip_audio_only", "no video stream"),
        ("clip_no_video_frames", "zero frames"),
    ],
)
def test_cli_bad_inputs_exit_with_one_line(request, run_cli, tmp_path, capsys, fixture, reason):
    path = request.getfixturevalue(fixture)
    assert run_cli("motion", path, "--out", tmp_path / "out") == motion_cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"macm: error: {path}: ") and reason in err[0]
    assert not (tmp_path / "out").exists()


def test_cli_missing_file(run_cli, tmp_path, capsys):
    assert run_cli("motion", tmp_path / "missing.mp4", "--out", tmp_path / "out") != 0
    assert capsys.readouterr().err.strip() == f"macm: error: {tmp_path / 'missing.mp4'}: no such file"


def test_cli_one_frame_clip(run_cli, clip_one_frame, tmp_path):
    assert run_cli("motion", clip_one_frame, "--out", tmp_path) == 0
    assert json.loads((tmp_path / "keyframes.json").read_text()) == {
        "indices": [0],
        "timestamps": [0.0],
        "track_indices": [0],
        "stride": 1,  # the default stride (3) is clamped to the one-frame clip
        "render_style": "capsules",
        "motion_frames": {"style": "mask", "alpha": 0.6, "size": None},
    }
    assert (tmp_path / "motion_000.png").exists() and (tmp_path / "overlay.mp4").exists()


def test_cli_no_person_is_flagged(run_cli, clip_empty_scene, tmp_path, caplog):
    assert run_cli("motion", clip_empty_scene, "--out", tmp_path, "--num-keyframes", "4") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["no_person"] is True and "no_person" in summary["flags"] and summary["person_fraction"] == 0
    assert len(list(tmp_path.glob("motion_*.png"))) == 4
    assert "no person" in caplog.text


def test_cli_missing_smpl_dir(run_cli, clip_person, tmp_path, capsys):
    assert run_cli("motion", clip_person, "--out", tmp_path, "--smpl-dir", tmp_path / "nope") != 0
    assert capsys.readouterr().err.startswith("macm: error: ")


def test_cli_subprocess_bad_input_has_no_traceback(clip_text, tmp_path):
    code = (
        "import sys, macm.cli; macm.cli.COMMAND_MODULES = ('macm.processing.cli',); "
        "sys.exit(macm.cli.main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "motion", str(clip_text), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == motion_cli.EXIT_BAD_INPUT
    assert done.stderr.strip().splitlines() == [
        f"macm: error: {clip_text}: not a readable video (Invalid data found when processing input)"
    ]


def test_extract_motion_with_blazepose(tmp_path):
    """The real default backend on a photograph of a person, when its model files are installed."""
    astronaut = pytest.importorskip("skimage.data").astronaut
    try:
        backend = get_pose_backend("blazepose")
    except PoseBackendUnavailableError as error:
        pytest.skip(str(error))
    person = cv2.resize(astronaut(), (320, 320))
    path = tmp_path / "astronaut.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 480, 320, "yuv420p"
        for n in range(8):
            frame = np.full((320, 480, 3), 90, np.uint8)
            frame[:, 10 * n : 10 * n + 320] = person
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    result = extract_motion(path, backend=backend, num_keyframes=4, cache=MotionCache(tmp_path / "c"), progress=False)
    assert result.track.keypoints.shape == (8, 33, 3) and result.track.world_keypoints is not None
    assert result.summary["person_fraction"] == 1.0 and result.summary["face_visible_fraction"] == 1.0
    assert len(result.keyframe_indices) == 4
    assert any(not np.array_equal(m, k) for m, k in zip(result.motion_frames, result.keyframes, strict=True))


def test_extract_motion_with_smpl_mesh(clip_person, clip_backend, tmp_path):
    """With an SMPL model directory the keyframes get a fitted mesh (a small synthetic SMPL-format model here)."""
    body = pytest.importorskip("macm.processing.body")
    smpl_dir = tmp_path / "smpl"
    smpl_dir.mkdir()
    body.make_synthetic_smpl_npz(smpl_dir / "SMPL_NEUTRAL.npz", num_vertices=600)
    overlay = MotionFrameSettings("overlay")
    result = extract_motion(
        clip_person,
        backend=clip_backend,
        num_keyframes=2,
        smpl_dir=smpl_dir,
        cache=False,
        progress=False,
        motion_frame_settings=overlay,
    )
    assert result.render_style == "mesh" and result.body.num_frames == 2
    for keyframe, motion in zip(result.keyframes, result.motion_frames, strict=True):
        assert (np.abs(motion.astype(int) - keyframe).sum(-1) > 30).mean() > 0.02  # a body-sized area is drawn
    (tmp_path / "empty").mkdir()
    with pytest.raises(pipeline.BodyRecoveryError, match="SMPL"):
        extract_motion(clip_person, backend=clip_backend, smpl_dir=tmp_path / "empty", cache=False, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"num_keyframes": 0}, "num_keyframes"), ({"stride": -2}, "stride"), ({"alpha": 2.0}, "alpha")],
)
def test_extract_motion_validates_settings_before_any_work(clip_person, clip_backend, kwargs, field):
    with pytest.raises(ValueError, match=field):
        extract_motion(clip_person, backend=clip_backend, cache=False, progress=False, **kwargs)
    assert clip_backend.calls == 0


def test_kept_frames_equal_a_second_decode(clip_person, clip_backend, tmp_path, monkeypatch):
    kept = extract_motion(clip_person, backend=clip_backend, num_keyframes=5, cache=False, progress=False,
                          overlay_path=tmp_path / "kept.mp4")  # fmt: skip
    monkeypatch.setattr(pipeline, "MAX_KEPT_FRAME_BYTES", 1)  # nothing fits: keyframes and overlay decode again
    decoded = extract_motion(clip_person, backend=clip_backend, num_keyframes=5, cache=False, progress=False,
                             overlay_path=tmp_path / "decoded.mp4")  # fmt: skip
    for a, b in zip(kept.keyframes + kept.motion_frames, decoded.keyframes + decoded.motion_frames, strict=True):
        np.testing.assert_array_equal(a, b)
    with av.open(str(tmp_path / "kept.mp4")) as one, av.open(str(tmp_path / "decoded.mp4")) as two:
        assert sum(1 for _ in one.decode(video=0)) == sum(1 for _ in two.decode(video=0)) == kept.track.num_frames
