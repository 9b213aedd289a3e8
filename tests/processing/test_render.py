"""Part-coloured capsules: left/right colours, alpha blending, depth order, and the overlay video writer."""

import av
import numpy as np
import pytest

from macm.processing.pose import COCO17_NAMES
from macm.processing.render import OverlayVideoWriter, draw_capsules, limb_thickness, render_motion_frame
from macm.processing.skeleton import BLAZEPOSE33_NAMES, PART_COLORS, resolve_layout

# A figure facing the camera in a 400x300 frame (its left side on the image's right).
JOINTS = {
    "nose": (200, 40), "left_eye": (208, 34), "right_eye": (192, 34), "left_ear": (215, 38), "right_ear": (185, 38),
    "left_shoulder": (240, 80), "right_shoulder": (160, 80), "left_elbow": (300, 80), "right_elbow": (100, 80),
    "left_wrist": (360, 80), "right_wrist": (40, 80), "left_hip": (225, 170), "right_hip": (175, 170),
    "left_knee": (260, 220), "right_knee": (140, 220), "left_ankle": (290, 280), "right_ankle": (110, 280),
}  # fmt: skip
GREY = 100


def _keypoints(names, score=0.9):
    keypoints = np.zeros((len(names), 3))
    keypoints[:, :2] = np.nan
    for i, name in enumerate(names):
        if name in JOINTS:
            keypoints[i] = (*JOINTS[name], score)
    return keypoints


def _mid(a, b):
    (x0, y0), (x1, y1) = JOINTS[a], JOINTS[b]
    return (y0 + y1) // 2, (x0 + x1) // 2


def _frame():
    return np.full((300, 400, 3), GREY, dtype=np.uint8)


@pytest.mark.parametrize("names", [COCO17_NAMES, BLAZEPOSE33_NAMES], ids=["coco17", "blazepose33"])
def test_left_and_right_limbs_get_distinct_warm_and_cool_colours(names):
    out = draw_capsules(_frame(), _keypoints(names), names, alpha=1.0)
    for part, (start, end) in {
        "upper_arm": ("shoulder", "elbow"),
        "thigh": ("hip", "knee"),
        "shin": ("knee", "ankle"),
    }.items():
        left = out[_mid(f"left_{start}", f"left_{end}")].astype(int)
        right = out[_mid(f"right_{start}", f"right_{end}")].astype(int)
        np.testing.assert_array_equal(left, PART_COLORS[(part, "left")])
        np.testing.assert_array_equal(right, PART_COLORS[(part, "right")])
        assert np.abs(left - right).sum() > 150
        assert left[0] > left[2] and right[2] > right[0]  # left warm (red > blue), right cool
    forearm_left = out[_mid("left_elbow", "left_wrist")].astype(int)
    np.testing.assert_array_equal(forearm_left, PART_COLORS[("forearm", "left")])
    assert not np.array_equal(forearm_left, out[_mid("left_shoulder", "left_elbow")])  # upper arm vs forearm


def test_alpha_blending():
    colour = np.array(PART_COLORS[("upper_arm", "left")])
    for alpha in (0.0, 0.3, 0.6, 1.0):
        frame = _frame()
        out = draw_capsules(frame, _keypoints(COCO17_NAMES), COCO17_NAMES, alpha=alpha)
        expected = (1 - alpha) * GREY + alpha * colour
        np.testing.assert_allclose(out[_mid("left_shoulder", "left_elbow")], expected, atol=1)
        assert (out[290:, :40] == GREY).all()  # far from the body: untouched
        assert (frame == GREY).all()  # the input is not modified
    with pytest.raises(ValueError, match="alpha"):
        draw_capsules(_frame(), _keypoints(COCO17_NAMES), COCO17_NAMES, alpha=1.5)


def test_low_score_joints_and_their_limbs_are_not_drawn():
    keypoints = _keypoints(COCO17_NAMES)
    keypoints[COCO17_NAMES.index("left_wrist"), 2] = 0.1
    out = draw_capsules(_frame(), keypoints, COCO17_NAMES, alpha=1.0)
    assert (out[_mid("left_elbow", "left_wrist")] == GREY).all()
    assert not (out[_mid("right_elbow", "right_wrist")] == GREY).all()
    empty = np.zeros((17, 3))
    np.testing.assert_array_equal(draw_capsules(_frame(), empty, COCO17_NAMES), _frame())


def test_world_keypoints_order_limbs_by_depth():
    # the two forearms cross at (200, 150)
    names = COCO17_NAMES
    keypoints = np.zeros((17, 3))
    for name, xy in {
        "left_elbow": (150, 100), "left_wrist": (250, 200), "right_elbow": (250, 100), "right_wrist": (150, 200),
    }.items():  # fmt: skip
        keypoints[names.index(name)] = (*xy, 0.9)
    world = np.zeros((17, 3))
    left = [names.index("left_elbow"), names.index("left_wrist")]
    right = [names.index("right_elbow"), names.index("right_wrist")]
    for near, far, part_side in ((left, right, "left"), (right, left, "right")):
        world[near, 2], world[far, 2] = -0.3, 0.3  # z grows away from the camera
        out = draw_capsules(_frame(), keypoints, names, alpha=1.0, world_keypoints=world)
        np.testing.assert_array_equal(out[150, 200], PART_COLORS[("forearm", part_side)])


def test_thickness_scales_with_person_size():
    assert limb_thickness(100) < limb_thickness(400) < limb_thickness(1600)
    small = draw_capsules(np.zeros((300, 400, 3), np.uint8), _keypoints(COCO17_NAMES), COCO17_NAMES, alpha=1.0)
    keypoints = _keypoints(COCO17_NAMES)
    keypoints[:, :2] = (keypoints[:, :2] - [200, 150]) * 0.4 + [200, 150]
    tiny = draw_capsules(np.zeros((300, 400, 3), np.uint8), keypoints, COCO17_NAMES, alpha=1.0)
    assert (small.sum(-1) > 0).sum() > 4 * (tiny.sum(-1) > 0).sum()


def test_layout_resolution():
    coco, blaze = resolve_layout(COCO17_NAMES), resolve_layout(BLAZEPOSE33_NAMES)
    assert "neck" in coco.names and len(blaze.limbs) > len(coco.limbs)
    assert {limb.part for limb in blaze.limbs} >= {"hand", "foot", "upper_arm", "shin", "torso", "head"}
    with pytest.raises(ValueError, match="no drawable limb"):
        resolve_layout(("a", "b"))


def test_render_motion_frame_styles():
    out = render_motion_frame(_frame(), _keypoints(COCO17_NAMES), COCO17_NAMES, alpha=0.6)
    np.testing.assert_array_equal(out, draw_capsules(_frame(), _keypoints(COCO17_NAMES), COCO17_NAMES, alpha=0.6))
    with pytest.raises(ValueError, match="style"):
        render_motion_frame(_frame(), _keypoints(COCO17_NAMES), COCO17_NAMES, style="cartoon")
    with pytest.raises(ValueError, match="needs `mesh`"):
        render_motion_frame(_frame(), style="mesh")
    with pytest.raises(ValueError, match="keypoints"):
        render_motion_frame(_frame())


def test_overlay_video_round_trip(tmp_path):
    path = tmp_path / "overlay.mp4"
    frames = [np.full((45, 63, 3), 20 * i, dtype=np.uint8) for i in range(7)]  # odd size on purpose
    with OverlayVideoWriter(path, fps=10) as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.codec in ("libx264", "mpeg4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        assert float(stream.average_rate) == pytest.approx(10)
    assert len(decoded) == 7
    assert decoded[0].shape == (44, 62, 3)
    np.testing.assert_allclose([d.mean() for d in decoded], [20 * i for i in range(7)], atol=3)


def test_a_reproducible_writer_repeats_its_bytes(tmp_path):
    """x264 with its lookahead on gave different files for this clip's frames run to run, even on one thread."""
    from macm.processing.synth import SynthConfig, generate_clip

    frames = generate_clip(3, SynthConfig(seed=1000, size=192, frames=16)).rgb
    written = []
    for attempt in range(4):
        path = tmp_path / f"clip{attempt}.mp4"
        with OverlayVideoWriter(path, fps=8, crf=18, reproducible=True) as writer:
            for frame in frames:
                writer.write(frame)
        written.append(path.read_bytes())
    assert all(data == written[0] for data in written[1:])
