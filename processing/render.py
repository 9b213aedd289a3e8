"""Motion frames: the recovered body drawn semi-transparently over the RGB keyframe.

Two styles:

- ``"capsules"`` (no SMPL model needed): thick anti-aliased limb segments with round caps and joint
  discs, coloured per body part with left and right distinct (see `macm.processing.skeleton`),
  ordered far to near by the 3D world keypoints when the backend has them, thickness scaled to the
  person's size;
- ``"mesh"``: a z-buffered SMPL mesh, drawn by `macm.processing.body.render_mesh`.

Both blend with ``out = (1 - alpha) * frame + alpha * drawing`` where something is drawn, so the
frame stays visible under the body. `OverlayVideoWriter` writes a whole clip of such frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .motion_frame_settings import DEFAULT_ALPHA
from .skeleton import SkeletonLayout, resolve_layout, with_virtual_joints

__all__ = [
    "DEFAULT_ALPHA",
    "OverlayVideoWriter",
    "draw_capsules",
    "limb_thickness",
    "render_motion_frame",
]

logger = logging.getLogger(__name__)

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_SCALE = 1 << _SHIFT


def _check_image(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"`rgb` must be an (H, W, 3) uint8 image, got shape {rgb.shape} and dtype {rgb.dtype}")
    return rgb


def _check_alpha(alpha: float) -> float:
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1], got {alpha}")
    return float(alpha)


def limb_thickness(person_size: float) -> int:
    """Limb thickness in pixels for a person whose bounding box's longer side is `person_size` pixels."""
    if not np.isfinite(person_size) or person_size <= 0:
        return 2
    return int(np.clip(round(0.035 * person_size), 2, 64))


def _depth_order(layout: SkeletonLayout, world: np.ndarray | None) -> np.ndarray:
    """Limb drawing order: far to near by mean world z (z grows away from the camera), else the list order."""
    order = np.arange(len(layout.pairs))
    if world is None:
        return order
    world = with_virtual_joints(world, layout, has_score=False)
    depth = world[layout.pairs, 2].mean(axis=1)  # (L,)
    if not np.isfinite(depth).any():
        return order
    depth = np.where(np.isfinite(depth), depth, np.nanmax(depth))
    return np.argsort(-depth, kind="stable")


def draw_capsules(
    rgb: np.ndarray,
    keypoints: np.ndarray,
    keypoint_names: Sequence[str],
    alpha: float = DEFAULT_ALPHA,
    world_keypoints: np.ndarray | None = None,
    min_score: float = 0.3,
    thickness: int | None = None,
) -> np.ndarray:
    """Draw a part-coloured limb-capsule skeleton over a frame.

    Args:
        rgb (`np.ndarray` of shape `(H, W, 3)`, `uint8`): the frame; not modified.
        keypoints (`np.ndarray` of shape `(K, 3)`): x, y in pixels and score, in `keypoint_names` order.
        keypoint_names (`Sequence[str]` of length `K`): the layout (COCO-17, BlazePose-33, ...).
        alpha (`float`, *optional*, defaults to 0.6): opacity of the drawing.
        world_keypoints (`np.ndarray` of shape `(K, 3)`, *optional*): 3D joints, only used to draw far limbs first.
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are not drawn, nor their limbs.
        thickness (`int`, *optional*): limb thickness in pixels; defaults to `limb_thickness` of the person's size.

    Returns:
        `np.ndarray` of shape `(H, W, 3)`, `uint8`: a new image (a copy of `rgb` when nothing is drawable).
    """
    rgb = _check_image(rgb)
    alpha = _check_alpha(alpha)
    layout = resolve_layout(keypoint_names)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.shape != (layout.num_real, 3):
        raise ValueError(f"`keypoints` must have shape ({layout.num_real}, 3), got {keypoints.shape}")
    points = with_virtual_joints(keypoints, layout)  # (J, 3)
    visible = (points[:, 2] >= min_score) & np.isfinite(points[:, :2]).all(axis=1)
    out = rgb.copy()
    drawn = layout.drawn_joints[visible[layout.drawn_joints]]
    if len(drawn) == 0 or alpha == 0:
        return out

    xy = points[:, :2]
    low, high = xy[drawn].min(axis=0), xy[drawn].max(axis=0)
    thickness = int(thickness) if thickness is not None else limb_thickness(float((high - low).max()))
    radius = max(2, int(round(0.6 * thickness)))
    height, width = rgb.shape[:2]
    pad = thickness + radius + 2
    x0, y0 = (np.floor(low).astype(int) - pad).clip(0, [width, height])
    x1, y1 = (np.ceil(high).astype(int) + pad + 1).clip(0, [width, height])
    if x1 <= x0 or y1 <= y0:
        return out

    layer = out[y0:y1, x0:x1].copy()  # drawing over the frame itself keeps anti-aliased edges clean
    fixed = np.round((xy - [x0, y0]) * _SCALE)
    fixed = np.where(np.isfinite(fixed), fixed, 0).astype(np.int64)
    world = None if world_keypoints is None else np.asarray(world_keypoints, dtype=np.float64)
    for limb in _depth_order(layout, world):
        start, end = layout.pairs[limb]
        if not (visible[start] and visible[end]):
            continue
        color = tuple(int(c) for c in layout.colors[limb])
        cv2.line(layer, tuple(fixed[start]), tuple(fixed[end]), color, thickness, cv2.LINE_AA, _SHIFT)
        for joint in (start, end):
            joint_color = tuple(int(c) for c in layout.joint_colors[joint])
            cv2.circle(layer, tuple(fixed[joint]), radius * _SCALE, joint_color, -1, cv2.LINE_AA, _SHIFT)
    # Joints with no drawable limb (e.g. a lone visible wrist) still get their disc.
    for joint in drawn:
        partners = layout.pairs[(layout.pairs == joint).any(axis=1)].ravel()
        if not visible[partners[partners != joint]].any():
            joint_color = tuple(int(c) for c in layout.joint_colors[joint])
            cv2.circle(layer, tuple(fixed[joint]), radius * _SCALE, joint_color, -1, cv2.LINE_AA, _SHIFT)
    cv2.addWeighted(layer, alpha, out[y0:y1, x0:x1], 1.0 - alpha, 0.0, dst=out[y0:y1, x0:x1])
    return out


def render_motion_frame(
    rgb: np.ndarray,
    keypoints: np.ndarray | None = None,
    keypoint_names: Sequence[str] | None = None,
    style: str = "capsules",
    alpha: float = DEFAULT_ALPHA,
    world_keypoints: np.ndarray | None = None,
    mesh: Mapping[str, np.ndarray] | None = None,
    min_score: float = 0.3,
) -> np.ndarray:
    """One motion frame: the body drawn semi-transparently over an RGB keyframe.

    Args:
        rgb (`np.ndarray` of shape `(H, W, 3)`, `uint8`): the keyframe.
        keypoints (`np.ndarray` of shape `(K, 3)`, *optional*): x, y, score; needed for `style="capsules"`.
        keypoint_names (`Sequence[str]` of length `K`, *optional*): their layout; needed with `keypoints`.
        style (`str`, *optional*, defaults to `"capsules"`): `"capsules"` or `"mesh"`.
        alpha (`float`, *optional*, defaults to 0.6): opacity of the body.
        world_keypoints (`np.ndarray` of shape `(K, 3)`, *optional*): 3D joints for depth ordering of capsules.
        mesh (`Mapping[str, np.ndarray]`, *optional*): for `style="mesh"`: `vertices_2d` `(V, 2)` pixels,
            `depth` `(V,)`, `faces` `(T, 3)` and `part_ids` `(V,)` (and optionally `focal_length`), as produced
            by `macm.processing.body.SmplFit.mesh`.
        min_score (`float`, *optional*, defaults to 0.3): keypoints scored below this are not drawn.

    Returns:
        `np.ndarray` of shape `(H, W, 3)`, `uint8`: the motion frame (the keyframe unchanged when there is no body).
    """
    if style == "capsules":
        if keypoints is None or keypoint_names is None:
            raise ValueError("`style='capsules'` needs `keypoints` and `keypoint_names`")
        return draw_capsules(rgb, keypoints, keypoint_names, alpha, world_keypoints, min_score)
    if style == "mesh":
        if mesh is None:
            raise ValueError("`style='mesh'` needs `mesh` (vertices_2d, depth, faces, part_ids)")
        missing = [key for key in ("vertices_2d", "depth", "faces", "part_ids") if key not in mesh]
        if missing:
            raise ValueError(f"`mesh` is missing {missing}")
        try:
            from .body import render_mesh
        except ImportError as error:
            raise ImportError(f"`style='mesh'` needs macm.processing.body.render_mesh: {error}") from error
        extra = {"focal_length": mesh["focal_length"]} if mesh.get("focal_length") is not None else {}
        return render_mesh(
            _check_image(rgb),
            mesh["vertices_2d"],
            mesh["depth"],
            mesh["faces"],
            mesh["part_ids"],
            _check_alpha(alpha),
            **extra,
        )
    raise ValueError(f"`style` must be 'capsules' or 'mesh', got {style!r}")


def _encoder_name(preferred: Sequence[str] = ("libx264", "mpeg4")) -> str:
    for name in preferred:
        try:
            av.codec.Codec(name, "w")
            return name
        except (av.FFmpegError, ValueError):
            continue
    raise RuntimeError(f"No video encoder available among {list(preferred)}")


class OverlayVideoWriter:
    """Write RGB frames to an H.264 (or MPEG-4 Part 2 when libx264 is missing) yuv420p video, streaming.

    Frames are cropped to even width and height (yuv420p needs them); the size is fixed by the first frame.

    Args:
        path (`str` or `os.PathLike`): the output file (`.mp4`).
        fps (`float`): frame rate of the output.
        crf (`int`, *optional*, defaults to 23): libx264 quality (lower is better).
        preset (`str`, *optional*, defaults to `"veryfast"`): libx264 speed preset.
        threads (`int`, *optional*, defaults to 0): encoder threads, 0 for the encoder's choice (x264's output
            depends on its thread count).
        reproducible (`bool`, *optional*, defaults to `False`): byte-identical files for identical frames, across
            runs and machines: one encoder thread and no x264 lookahead (`tune=zerolatency`, which also drops
            B-frames). A single thread alone is not enough: with its lookahead on, x264 gave different files (up to
            27 grey levels apart once decoded) for the same frames in the same process.

    Example:

    ```python
    >>> with OverlayVideoWriter("overlay.mp4", fps=10) as writer:
    ...     for frame in frames:
    ...         writer.write(frame)
    ```
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        crf: int = 23,
        preset: str = "veryfast",
        threads: int = 0,
        reproducible: bool = False,
    ):
        if not fps or fps <= 0 or not np.isfinite(fps):
            raise ValueError(f"`fps` must be positive, got {fps}")
        self.path = Path(path)
        # 1001 keeps NTSC rates exact; a rate below 1/2002 fps (a huge stride) would round to 0, so those keep more.
        self.fps = Fraction(fps).limit_denominator(max(1001, int(2 / fps) + 1))
        self.codec = _encoder_name()
        self.crf = crf
        self.preset = preset
        self.threads = 1 if reproducible else threads
        self.reproducible = reproducible
        self.num_frames = 0
        self._container = None
        self._stream = None
        self._size: tuple[int, int] | None = None

    def _open(self, height: int, width: int) -> None:
        self._size = (height - height % 2, width - width % 2)
        if min(self._size) < 2:
            raise ValueError(f"Frames of {height}x{width} are too small to encode")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), mode="w")
        options = {"crf": str(self.crf), "preset": self.preset} if self.codec == "libx264" else {}
        if self.reproducible and self.codec == "libx264":
            options["tune"] = "zerolatency"
        self._stream = self._container.add_stream(self.codec, rate=self.fps, options=options)
        self._stream.height, self._stream.width = self._size
        self._stream.pix_fmt = "yuv420p"
        if self.threads:
            self._stream.codec_context.thread_count = self.threads
        if self.codec != "libx264":
            self._stream.bit_rate = max(1_000_000, 4 * self._size[0] * self._size[1])

    def write(self, rgb: np.ndarray) -> None:
        """Append one `(H, W, 3)` uint8 RGB frame."""
        rgb = _check_image(rgb)
        if self._container is None:
            self._open(*rgb.shape[:2])
        height, width = self._size
        if rgb.shape[0] < height or rgb.shape[1] < width:
            raise ValueError(f"Frame of {rgb.shape[:2]} is smaller than the video's {self._size}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:height, :width]), format="rgb24")
        frame.pts = self.num_frames
        frame.time_base = 1 / self.fps
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.num_frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file (a writer that got no frame writes nothing)."""
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self) -> OverlayVideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
