"""Pose-driven keyframe sampling (M-ACM, section 3).

Uniform sampling wastes keyframes on still stretches and misses brief extreme poses; picking the most different
poses over the whole clip clusters keyframes where the body moves most and can skip a whole action. The paper
does both jobs at once: "videos are divided into N segments, with frames selected based on maximum keypoint
distance from previous keyframe".

1. every frame's keypoints are normalised for translation and scale (hip centre and torso length, or
   the keypoints' bounding box when the torso is not visible), and joints scored below `min_score`
   are masked out;
2. the distance between two frames is the mean Euclidean distance over the joints visible in both;
3. the clip is cut into N equal segments and each gives one keyframe: in the first segment the frame with
   the largest mean distance to the other frames of that segment, in each next one the frame farthest from
   the previous keyframe (ties, e.g. a person standing still, go to the frame nearest the segment's middle);
4. frames without a person cannot be compared: a segment where nobody is found gives its middle frame, and
   the comparison goes on from the last keyframe that had a person.

The result is one index per segment, so strictly increasing, and a still half of a clip keeps its share.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .pose.types import PoseTrack

__all__ = [
    "DEFAULT_MIN_SCORE",
    "normalize_keypoints",
    "pairwise_pose_distances",
    "sample_keyframes",
    "segment_bounds",
    "select_keyframes",
    "uniform_indices",
]

DEFAULT_MIN_SCORE = 0.3
# keyframes per clip when no checkpoint says otherwise (`MacmConfig.num_keyframes`'s default; a test keeps them equal)
DEFAULT_NUM_KEYFRAMES = 16
# A frame needs this many confident joints for its pose to be compared with other frames.
MIN_VISIBLE_JOINTS = 3
# Upper bound on the number of float64 values in one block of the (R, F, K) distance computation.
_BLOCK_VALUES = 4_000_000


def uniform_indices(num_frames: int, num_samples: int) -> np.ndarray:
    """`num_samples` distinct indices spread evenly over `range(num_frames)` (all of them when fewer), sorted."""
    if num_frames <= 0 or num_samples <= 0:
        return np.zeros(0, dtype=np.int64)
    if num_samples >= num_frames:
        return np.arange(num_frames, dtype=np.int64)
    # Centres of `num_samples` equal segments: distinct because segments are at least one frame long.
    return np.floor((np.arange(num_samples) + 0.5) * num_frames / num_samples).astype(np.int64)


def normalize_keypoints(
    keypoints: np.ndarray,
    keypoint_names: Sequence[str] | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> tuple[np.ndarray, np.ndarray]:
    """Translation- and scale-free keypoints and the mask of confident joints.

    Frames whose left/right shoulders and hips are all confident are centred on the hip centre and
    divided by the torso length (hip centre to shoulder centre); other frames are centred on the box
    around their confident joints and divided by its longer side.

    Args:
        keypoints (`np.ndarray` of shape `(F, K, 3)`): x, y in pixels and a score per joint.
        keypoint_names (`Sequence[str]` of length `K`, *optional*): the layout, to find shoulders and hips.
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are masked.

    Returns:
        `tuple[np.ndarray, np.ndarray]`: normalised coordinates `(F, K, 2)` (0 where masked) and the
        visibility mask `(F, K)` bool.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[2] != 3:
        raise ValueError(f"`keypoints` must have shape (F, K, 3), got {keypoints.shape}")
    xy = keypoints[..., :2]
    visible = (keypoints[..., 2] >= min_score) & np.isfinite(xy).all(axis=-1)  # (F, K)
    masked = np.where(visible[..., None], xy, np.nan)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: frames without a person
        low, high = np.nanmin(masked, axis=1), np.nanmax(masked, axis=1)  # (F, 2)
    centre = (low + high) / 2
    scale = np.max(high - low, axis=1)  # (F,)

    torso = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if keypoint_names is not None and all(name in keypoint_names for name in torso):
        ls, rs, lh, rh = (list(keypoint_names).index(name) for name in torso)
        has_torso = visible[:, [ls, rs, lh, rh]].all(axis=1)
        hip_centre = (xy[:, lh] + xy[:, rh]) / 2
        torso_length = np.linalg.norm((xy[:, ls] + xy[:, rs]) / 2 - hip_centre, axis=-1)
        use_torso = has_torso & (torso_length > 1e-6)
        centre = np.where(use_torso[:, None], hip_centre, centre)
        scale = np.where(use_torso, torso_length, scale)

    scale = np.where(np.isfinite(scale) & (scale > 1e-6), scale, 1.0)
    centre = np.where(np.isfinite(centre), centre, 0.0)
    normalised = (xy - centre[:, None]) / scale[:, None, None]
    normalised = np.where(visible[..., None], normalised, 0.0)
    return normalised, visible


def pairwise_pose_distances(
    coords: np.ndarray,
    visible: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Mean joint distance between frames, over the joints visible in both.

    Args:
        coords (`np.ndarray` of shape `(F, K, 2)`): normalised keypoints (see `normalize_keypoints`).
        visible (`np.ndarray` of shape `(F, K)`, `bool`): confident joints.
        rows (`np.ndarray` of shape `(R,)`, *optional*): frames to measure from; defaults to all frames.

    Returns:
        `np.ndarray` of shape `(R, F)`: distances; NaN where two frames share no visible joint.
    """
    rows = np.arange(len(coords)) if rows is None else np.asarray(rows, dtype=np.int64)
    num_frames, num_joints = visible.shape
    block = max(1, _BLOCK_VALUES // max(1, num_frames * num_joints))
    out = np.empty((len(rows), num_frames), dtype=np.float64)
    weights = visible.astype(np.float64)  # (F, K)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        both = weights[chunk, None, :] * weights[None, :, :]  # (B, F, K)
        dist = np.linalg.norm(coords[chunk, None] - coords[None], axis=-1)  # (B, F, K)
        counts = both.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + len(chunk)] = np.where(counts > 0, (dist * both).sum(-1) / counts, np.nan)
    return out


def segment_bounds(num_frames: int, num_segments: int) -> np.ndarray:
    """`num_segments + 1` boundaries cutting `range(num_frames)` into equal, non-empty segments (needs
    `num_segments <= num_frames`); segment `k`'s middle is `uniform_indices(num_frames, num_segments)[k]`."""
    return np.floor(np.arange(num_segments + 1) * num_frames / num_segments).astype(np.int64)


def _nearest_middle(score: np.ndarray, frames: np.ndarray) -> int:
    """The highest-scoring frame of a segment; near-ties go to the frame nearest the segment's middle."""
    best = score.max()
    tied = frames[score >= best - 1e-9 * max(1.0, abs(best))]
    middle = (frames[0] + frames[-1]) / 2
    return int(tied[np.argmin(np.abs(tied - middle))])


def _segment_keyframe(coords: np.ndarray, visible: np.ndarray, frames: np.ndarray, previous: int | None) -> int:
    """One segment's keyframe among `frames` (all with a person): farthest from `previous`, or, for the first
    keyframe, farthest on average from the segment's other frames."""
    if previous is None:
        distances = pairwise_pose_distances(coords, visible, frames)[:, frames]  # (S, S)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # rows without a shared joint
            score = np.nanmean(distances, axis=1) if len(frames) > 1 else np.zeros(1)
    else:
        score = pairwise_pose_distances(coords, visible, np.array([previous]))[0, frames]
    return _nearest_middle(np.nan_to_num(score, nan=-1.0), frames)


def select_keyframes(
    keypoints: np.ndarray,
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    keypoint_names: Sequence[str] | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> np.ndarray:
    """Pose-driven keyframes from raw keypoints.

    Args:
        keypoints (`np.ndarray` of shape `(F, K, 3)`): x, y in pixels and score per joint; frames without a
            person have all scores 0.
        num_keyframes (`int`, *optional*, defaults to 16): how many keyframes to pick.
        keypoint_names (`Sequence[str]` of length `K`, *optional*): the layout, for torso normalisation.
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are ignored.

    Returns:
        `np.ndarray` of shape `(min(num_keyframes, F),)`, `int64`: one frame index per segment, strictly
        increasing.
    """
    if isinstance(num_keyframes, bool) or not isinstance(num_keyframes, (int, np.integer)) or num_keyframes < 1:
        raise ValueError(f"`num_keyframes` must be a positive integer, got {num_keyframes!r}")
    keypoints = np.asarray(keypoints)
    num_frames = len(keypoints)
    if num_frames <= num_keyframes:
        return np.arange(num_frames, dtype=np.int64)

    coords, visible = normalize_keypoints(keypoints, keypoint_names, min_score)
    has_person = visible.sum(axis=1) >= MIN_VISIBLE_JOINTS
    bounds = segment_bounds(num_frames, num_keyframes)
    middles = uniform_indices(num_frames, num_keyframes)
    selected, previous = [], None
    for begin, end, middle in zip(bounds[:-1], bounds[1:], middles, strict=True):
        frames = np.arange(begin, end)
        candidates = frames[has_person[frames]]
        if len(candidates) == 0:
            selected.append(int(middle))
            continue
        previous = _segment_keyframe(coords, visible, candidates, previous)
        selected.append(previous)
    return np.asarray(selected, dtype=np.int64)


def sample_keyframes(
    track: PoseTrack,
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    min_score: float = DEFAULT_MIN_SCORE,
) -> np.ndarray:
    """Pose-driven keyframes of a `PoseTrack`: `select_keyframes` on its keypoints and layout.

    Returns:
        `np.ndarray` of shape `(min(num_keyframes, F),)`, `int64`: distinct indices into the track, in
        temporal order (`track.frame_indices[result]` are the video frame indices).
    """
    return select_keyframes(track.keypoints, num_keyframes, track.keypoint_names, min_score)
