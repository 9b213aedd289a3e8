"""The motion frames of a clip, in the style its model was trained with: the one function every path calls.

Two styles (`MacmConfig.motion_frame_style`):

- ``"mask"`` (motion masks, the sources' "SMPL-based mesh recovery ... to generate motion masks"): the recovered
  body alone (the SMPL mesh when one was fitted, else part-coloured limb capsules, left warm and right cool) on a
  black background, in one person-centred square crop for the whole clip, so the body fills the frame and moves
  inside it as it moves in the clip;
- ``"overlay"``: the body drawn semi-transparently over the full RGB keyframe (`motion_frame_alpha`), which a
  converted LLaVA-OneVision tower, trained on natural images, may read more easily.

SynthMotion, `macm motion`, `macm caption`, the Space, `macm eval` and `macm build-hmi` all render through
`render_motion_frames`, with `MotionFrameSettings.from_config` where a model is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from .motion_frame_settings import MOTION_FRAME_STYLES, MotionFrameSettings
from .render import draw_capsules, render_motion_frame

__all__ = ["MOTION_FRAME_STYLES", "MotionFrameSettings", "person_crop", "render_motion_frames"]

DEFAULT_MASK_SIZE = 256
# Margin around the clip's joints, as a fraction of the crop, so hands and feet are not cut at the border.
CROP_MARGIN = 0.12
# Limb thickness on masks, as a fraction of the crop side: thick enough to survive the tower's resizing.
MASK_LIMB_FRACTION = 0.06


def person_crop(
    keypoints: np.ndarray, image_size: tuple[int, int], min_score: float = 0.3, margin: float = CROP_MARGIN
) -> tuple[float, float, float] | None:
    """One square crop `(x0, y0, side)` around every confident joint of the clip (it may reach past the image).

    Args:
        keypoints (`np.ndarray` of shape `(N, K, 3)`): x, y in pixels and a score, per keyframe.
        image_size (`tuple[int, int]`): `(height, width)` of the keyframes.
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are ignored.
        margin (`float`, *optional*): border added on each side, as a fraction of the crop.

    Returns:
        The crop, or `None` when no keyframe has a confident joint.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    xy = keypoints[..., :2].reshape(-1, 2)
    confident = (keypoints[..., 2].reshape(-1) >= min_score) & np.isfinite(xy).all(axis=1)
    if not confident.any():
        return None
    low, high = xy[confident].min(axis=0), xy[confident].max(axis=0)
    centre = (low + high) / 2
    side = max(float((high - low).max()) / (1.0 - 2 * margin), 0.05 * min(image_size), 4.0)
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def _crop_square(image: np.ndarray, crop: tuple[float, float, float], size: int) -> np.ndarray:
    """Resample the square `crop` of `image` to `size` x `size` (black beyond the image)."""
    x0, y0, side = crop
    scale = size / side
    warp = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    return cv2.warpAffine(image, warp, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)


def render_motion_frames(
    keyframes: Sequence[np.ndarray],
    keypoints: np.ndarray | None,
    keypoint_names: Sequence[str] | None,
    settings: MotionFrameSettings | None = None,
    world_keypoints: np.ndarray | None = None,
    meshes: Sequence[Mapping[str, np.ndarray] | None] | None = None,
    min_score: float = 0.3,
) -> list[np.ndarray]:
    """The motion frames of one clip.

    Args:
        keyframes (`Sequence[np.ndarray]`): `N` RGB keyframes, `(H, W, 3)` uint8.
        keypoints (`np.ndarray` of shape `(N, K, 3)`, *optional*): the body per keyframe (x, y, score; score 0
            where nobody was found); `None` when the clip has no pose at all.
        keypoint_names (`Sequence[str]` of length `K`, *optional*): their layout.
        settings (`MotionFrameSettings`, *optional*): style, opacity and mask size; defaults to masks.
        world_keypoints (`np.ndarray` of shape `(N, K, 3)`, *optional*): 3D joints, to draw far limbs first.
        meshes (`Sequence`, *optional*): per keyframe, a fitted SMPL mesh (see `render_motion_frame`) or `None`;
            a keyframe with a mesh is drawn as the mesh, one without as capsules.
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are not drawn.

    Returns:
        `list[np.ndarray]`: `N` motion frames, `(size, size, 3)` masks or `(H, W, 3)` overlays, uint8.
    """
    settings = settings or MotionFrameSettings()
    if keypoints is not None and len(keypoints) != len(keyframes):
        raise ValueError(f"{len(keyframes)} keyframes but keypoints for {len(keypoints)}")
    if meshes is not None and len(meshes) != len(keyframes):
        raise ValueError(f"{len(keyframes)} keyframes but {len(meshes)} meshes")
    mask = settings.style == "mask"
    alpha = 1.0 if mask else settings.alpha
    crop = None
    if mask and keyframes:
        crop = person_crop(keypoints, keyframes[0].shape[:2], min_score) if keypoints is not None else None
        if crop is None:  # nobody in the clip: the whole frame, centred
            height, width = keyframes[0].shape[:2]
            side = float(max(height, width))
            crop = ((width - side) / 2, (height - side) / 2, side)
    thickness = max(2, round(MASK_LIMB_FRACTION * crop[2])) if crop is not None else None

    frames = []
    for index, keyframe in enumerate(keyframes):
        base = np.zeros_like(keyframe) if mask else np.asarray(keyframe)
        mesh = meshes[index] if meshes is not None else None
        if mesh is not None:
            drawn = render_motion_frame(base, style="mesh", mesh=mesh, alpha=alpha)
        elif keypoints is not None and (keypoints[index, :, 2] >= min_score).any():
            world = None if world_keypoints is None else world_keypoints[index]
            drawn = draw_capsules(base, keypoints[index], keypoint_names, alpha, world, min_score, thickness)
        else:
            drawn = base.copy()
        frames.append(_crop_square(drawn, crop, settings.size or DEFAULT_MASK_SIZE) if mask else drawn)
    return frames
