"""Motion frames in a checkpoint's style: masks (the body alone in one person-centred crop) and overlays."""

import numpy as np
import pytest

from macm.processing.motion_frames import MotionFrameSettings, person_crop, render_motion_frames
from macm.processing.pose import COCO17_NAMES


def _figure(dx: float = 0.0, left_arm_up: bool = False) -> np.ndarray:
    """(17, 3) COCO-17 keypoints of a figure about 100 px tall around x = 100 + dx in a 160 x 240 frame."""
    x = np.array([0, -4, 4, -8, 8, -15, 15, -20, 20, -22, 22, -10, 10, -10, 10, -10, 10], dtype=float)
    y = np.array([20, 17, 17, 18, 18, 35, 35, 55, 55, 72, 72, 75, 75, 98, 98, 120, 120], dtype=float)
    if left_arm_up:  # the person's left (COCO's left joints are the odd indices 5, 7, 9)
        y[[7, 9]] = [18, 2]
    return np.stack([x + 100 + dx, y, np.ones(17)], axis=-1)


def _frames(count: int) -> list[np.ndarray]:
    return [np.full((160, 240, 3), 90, np.uint8) for _ in range(count)]


def test_masks_are_square_person_centred_and_on_black():
    keypoints = np.stack([_figure(), _figure(dx=60, left_arm_up=True)])
    masks = render_motion_frames(_frames(2), keypoints, COCO17_NAMES, MotionFrameSettings(size=96))
    assert [m.shape for m in masks] == [(96, 96, 3)] * 2
    drawn = [m.sum(axis=-1) > 0 for m in masks]
    assert all(0.05 < d.mean() < 0.6 for d in drawn)  # the body fills the crop, the background stays black
    assert drawn[0].any(axis=0).nonzero()[0].mean() < drawn[1].any(axis=0).nonzero()[0].mean()  # one crop: it moved
    assert not (masks[0] == 90).all(axis=-1).any()  # no pixel of the RGB frame survives


def test_left_and_right_limbs_have_different_colours():
    keypoints = _figure()[None]
    mask = render_motion_frames(_frames(1), keypoints, COCO17_NAMES, MotionFrameSettings(size=128))[0]
    crop = person_crop(keypoints, (160, 240))
    scale = 128 / crop[2]

    def colour(joint: int) -> np.ndarray:
        x, y = ((keypoints[0, joint, :2] - crop[:2]) * scale).round().astype(int)
        return mask[y, x].astype(int)

    left_wrist, right_wrist = COCO17_NAMES.index("left_wrist"), COCO17_NAMES.index("right_wrist")
    assert np.abs(colour(left_wrist) - colour(right_wrist)).sum() > 100


def test_overlays_keep_the_keyframe_and_its_size():
    keypoints = _figure()[None]
    frames = _frames(1)
    overlay = render_motion_frames(frames, keypoints, COCO17_NAMES, MotionFrameSettings("overlay", alpha=0.5))[0]
    assert overlay.shape == frames[0].shape
    assert (overlay[:, -20:] == 90).all() and (overlay != 90).any()


def test_a_clip_without_anybody_gives_black_masks_and_bad_settings_are_named():
    empty = np.zeros((2, 17, 3))
    masks = render_motion_frames(_frames(2), empty, COCO17_NAMES, MotionFrameSettings(size=32))
    assert all(m.shape == (32, 32, 3) and not m.any() for m in masks)
    assert person_crop(empty, (160, 240)) is None
    with pytest.raises(ValueError, match="style must be one of"):
        MotionFrameSettings("capsules")
    with pytest.raises(ValueError, match="alpha"):
        MotionFrameSettings("overlay", alpha=2.0)
    with pytest.raises(ValueError, match="3 keyframes but keypoints for 2"):
        render_motion_frames(_frames(3), empty, COCO17_NAMES)


def test_settings_come_from_a_checkpoint_config_and_flags_override():
    from tiny_models import tiny_macm_config

    config = tiny_macm_config(motion_frame_style="overlay", motion_frame_alpha=0.3)
    settings = MotionFrameSettings.from_config(config)
    assert settings == MotionFrameSettings("overlay", 0.3, config.vision_config.image_size)
    assert MotionFrameSettings.from_config(config, style="mask").style == "mask"
    assert MotionFrameSettings.from_config(tiny_macm_config(motion_frame_size=64)).size == 64
