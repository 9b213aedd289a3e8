"""Motion events from pose tracks whose moving limb is known (`tests/synthetic_motion.py`)."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_motion import mirrored, project, skeleton_clip

from macm.processing.kinematics import LIMB_NAMES, KinematicsConfig, summarize_motion, summarize_track_motion
from macm.processing.pose.types import COCO17_NAMES, PoseTrack
from macm.processing.skeleton import BLAZEPOSE33_NAMES, PART_COLORS


@pytest.mark.parametrize("view", ["3d", "2d", "2d_far", "back_3d", "back_2d"])
def test_right_arm_sweep_is_the_only_moved_limb(view):
    joints = skeleton_clip([("right_arm", 4, 14)], frames=24)  # camera drift and shake, 4 mm noise
    points = {
        "3d": joints,
        "2d": project(joints),
        "2d_far": project(joints * [1.0, 1.0, 2.5]),  # the same person, 2.5 times farther: a smaller figure
        "back_3d": mirrored(joints),  # seen from behind: the person's right is on the image's right
        "back_2d": project(mirrored(joints)),
    }[view]
    summary = summarize_motion(points, COCO17_NAMES, fps=10.0)
    assert summary.top_limb == "right_arm"
    assert summary.moved_limbs == ("right_arm",)
    assert summary.moved_parts == ("arm",) and summary.moved_sides("arm") == ("right",)
    assert summary.limb("right_arm").amplitude == pytest.approx(1.93, abs=0.1)  # 150 degrees: 2 sin(75) arm lengths
    (event,) = summary.events
    assert event.limb == "right_arm" and event.side == "right" and 3 <= event.start_frame <= 5 <= 13 <= event.end_frame
    assert event.start_time == pytest.approx(event.start_frame / 10.0) and summary.time_unit == "s"
    assert summary.dims == (3 if view.endswith("3d") else 2)


@pytest.mark.parametrize("limb", ["left_leg", "left_arm"])
def test_amplitudes_do_not_depend_on_person_size_or_camera_translation(limb):
    joints = skeleton_clip([(limb, 3, 15)], frames=20, noise=0.0, drift=0.0)
    panned = skeleton_clip([(limb, 3, 15)], frames=20, noise=0.0, drift=0.08, seed=3)
    reference = summarize_motion(joints, COCO17_NAMES)
    variants = [panned, joints * 1.7]
    if limb == "left_arm":  # moves in the image plane: its image keypoints see the same motion
        variants += [project(joints), project(joints * [1.0, 1.0, 2.0])]
    for points in variants:
        summary = summarize_motion(points, COCO17_NAMES)
        for name in LIMB_NAMES:
            assert summary.limb(name).amplitude == pytest.approx(reference.limb(name).amplitude, abs=0.02), name
    expected = 2 * np.sin(np.deg2rad(70 / 2)) if limb == "left_leg" else 2 * np.sin(np.deg2rad(150 / 2))
    assert reference.moved_limbs == (limb,) and reference.limb(limb).amplitude == pytest.approx(expected, abs=0.02)


def test_order_of_events_and_phases():
    joints = skeleton_clip([("right_arm", 2, 9), ("left_leg", 11, 20), ("head", 14, 21)], frames=24)
    for points in (joints, project(joints)):
        summary = summarize_motion(points, COCO17_NAMES, fps=10.0)
        assert summary.order == ("right_arm", "left_leg", "head")
        assert set(summary.moved_limbs) == {"right_arm", "left_leg", "head"}
        assert [[event.limb for event in phase] for phase in summary.phases] == [["right_arm"], ["left_leg", "head"]]
        assert summary.sides_in(summary.phases[1], "leg") == ("left",)
        assert summary.sides_in(summary.phases[1], "arm") == ()


def test_raise_hold_and_lower_is_one_event():
    joints = skeleton_clip([("left_arm", 2, 28)], frames=32)  # a long hold at the top
    summary = summarize_motion(joints, COCO17_NAMES, fps=15.0)
    (event,) = summary.events
    assert event.limb == "left_arm" and event.start_frame <= 4 and event.end_frame >= 26


@pytest.mark.parametrize("noise", [0.005, 0.015])
def test_still_person_with_noise_moves_nothing(noise):
    # 2 cm of camera pan a frame: 0.8 m over the clip (much more and the face's depth gives a perspective shift)
    joints = skeleton_clip([], frames=40, noise=noise, drift=0.02, seed=1)
    for points in (joints, project(joints)):
        summary = summarize_motion(points, COCO17_NAMES, fps=10.0)
        assert summary.moved_limbs == () and summary.events == () and summary.top_limb is None
        assert all(limb.observed for limb in summary.limbs)


def test_both_arms_moving_counts_both_sides():
    joints = skeleton_clip([("right_arm", 3, 12), ("left_arm", 3, 12)], frames=16)
    summary = summarize_motion(joints, COCO17_NAMES)
    assert summary.time_unit == "frame" and summary.moved_sides("arm") == ("left", "right")
    assert [event.limb for event in summary.phases[0]] and len(summary.phases) == 1


def test_pose_track_with_scores_and_blazepose_layout():
    joints = project(skeleton_clip([("right_leg", 5, 16)], frames=24))
    frames = len(joints)
    keypoints = np.zeros((frames, len(BLAZEPOSE33_NAMES), 3))
    for k, name in enumerate(COCO17_NAMES):
        keypoints[:, BLAZEPOSE33_NAMES.index(name), :2] = joints[:, k]
        keypoints[:, BLAZEPOSE33_NAMES.index(name), 2] = 0.9
    keypoints[7, BLAZEPOSE33_NAMES.index("left_wrist")] = [5000.0, -5000.0, 0.05]  # a glitch the score rules out
    track = PoseTrack(
        frame_indices=np.arange(frames) * 3,
        timestamps=np.arange(frames) / 10.0,
        keypoints=keypoints,
        keypoint_names=BLAZEPOSE33_NAMES,
        image_size=(480, 640),
        person_counts=np.ones(frames, dtype=int),
        bboxes=np.zeros((frames, 4)),
        backend="blazepose",
    )
    summary = summarize_track_motion(track)
    assert summary.moved_limbs == ("right_leg",) and summary.time_unit == "s" and summary.dims == 2
    assert summary.events[0].start_time == pytest.approx(summary.events[0].start_frame / 10.0)
    hidden = PoseTrack(**{**track.__dict__, "keypoints": np.where(np.arange(33)[None, :, None] < 25, 0.0, keypoints)})
    assert not any(limb.observed for limb in summarize_track_motion(hidden).limbs)


def test_missing_keypoints_leave_a_limb_unobserved():
    points = skeleton_clip([("right_arm", 3, 12)], frames=16)
    points[:, COCO17_NAMES.index("left_wrist")] = np.nan
    points[:, COCO17_NAMES.index("left_elbow")] = np.nan
    summary = summarize_motion(points, COCO17_NAMES)
    assert not summary.limb("left_arm").observed and np.isnan(summary.limb("left_arm").amplitude)
    assert summary.moved_limbs == ("right_arm",) and "left_arm" not in summary.ranking
    assert summary.to_dict()["limbs"]["left_arm"] == {
        "part": "arm", "side": "left", "observed": False, "amplitude": None, "threshold": None, "moved": False
    }  # fmt: skip


def test_bad_inputs_are_named():
    joints = skeleton_clip([], frames=8)
    with pytest.raises(ValueError, match=r"shape \(F, K, 2\) or \(F, K, 3\)"):
        summarize_motion(joints[0], COCO17_NAMES)
    with pytest.raises(ValueError, match="16 names but `points` has 17"):
        summarize_motion(joints, COCO17_NAMES[:16])
    with pytest.raises(ValueError, match="at least 2 frames"):
        summarize_motion(joints[:1], COCO17_NAMES)
    names = tuple("hip" if name == "left_hip" else name for name in COCO17_NAMES)
    with pytest.raises(ValueError, match=r"lacks \['left_hip'\]"):
        summarize_motion(joints, names)
    with pytest.raises(ValueError, match="`scores` must have shape"):
        summarize_motion(joints, COCO17_NAMES, scores=np.ones((8, 3)))
    with pytest.raises(ValueError, match="`fps` must be positive"):
        summarize_motion(joints, COCO17_NAMES, fps=0)
    with pytest.raises(ValueError, match="missing \\['torso'\\]"):
        KinematicsConfig(min_amplitude={"arm": 0.2, "leg": 0.2, "head": 0.2})


def test_timeline_plot_draws_side_colours(tmp_path):
    from matplotlib.colors import to_hex

    from macm.processing.timeline_plot import LIMB_COLORS, plot_motion_timeline

    summary = summarize_motion(skeleton_clip([("right_arm", 2, 9), ("left_leg", 11, 19)], frames=22), COCO17_NAMES)
    figure = plot_motion_timeline(summary, fps=10.0)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "time (s)" and axes.get_xlim()[1] == pytest.approx(2.1)
    labels = {tick.get_text(): to_hex(tick.get_color()) for tick in axes.get_yticklabels()}
    skeleton_hex = {key: to_hex(np.array(rgb) / 255) for key, rgb in PART_COLORS.items()}
    assert labels["right arm"] == skeleton_hex[("upper_arm", "right")] == LIMB_COLORS["right_arm"]
    assert labels["left leg"] == skeleton_hex[("thigh", "left")] and labels["left arm"] != labels["right arm"]
    bars = [c for c in axes.collections if type(c).__name__ == "PolyCollection"]  # broken_barh; fills are subclasses
    assert sorted(to_hex(bar.get_facecolor()[0], keep_alpha=False) for bar in bars) == sorted(
        [LIMB_COLORS["right_arm"], LIMB_COLORS["left_leg"]]
    )  # one bar set per limb with events, in its colour
    path = tmp_path / "timeline.png"
    figure.savefig(path, dpi=80)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_timeline_plot_takes_a_motion_pathway_result():
    from macm.processing.timeline_plot import plot_motion_timeline

    joints = project(skeleton_clip([("left_arm", 3, 12)], frames=16))
    track = PoseTrack(
        frame_indices=np.arange(16),
        timestamps=np.arange(16) / 8.0,
        keypoints=np.concatenate([joints, np.ones((16, 17, 1))], axis=-1),
        keypoint_names=COCO17_NAMES,
        image_size=(480, 640),
        person_counts=np.ones(16, dtype=int),
        bboxes=np.zeros((16, 4)),
    )

    class Result:  # the fields of `MotionResult` the plot reads
        def __init__(self, track):
            self.track, self.keyframe_timestamps = track, track.timestamps[::4]

    figure = plot_motion_timeline(Result(track))
    assert figure.axes[0].get_xlabel() == "time (s)"
    assert len(figure.axes[0].lines) == 4  # the keyframe marks
    empty = PoseTrack(**{**track.__dict__, "keypoints": np.zeros_like(track.keypoints)})
    assert "no person found" in plot_motion_timeline(empty).axes[0].texts[0].get_text()
    with pytest.raises(TypeError, match="expected a MotionSummary"):
        plot_motion_timeline(np.zeros((3, 17, 2)))
