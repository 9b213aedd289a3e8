"""Pose-driven keyframe sampling (M-ACM, section 3).

Uniform sampling wastes keyframes on still stretches and misses brief extreme poses. The paper picks
keyframes by how different the body looks instead:

1. every frame's keypoints are normalised for translation and scale (hip centre and torso length, or
   the keypoints' bounding box when the torso is not visible), and joints scored below `min_score`
   are masked out;
2. the distance between two frames is the mean Euclidean distance over the joints visible in both;
3. the first keyframe is the frame with the largest mean distance to all frames; each next one is the
   not-yet-chosen frame farthest from the previous keyframe (ties, e.g. a person standing still, go
   to the frame farthest in time from the keyframes already chosen);
4. frames without a person cannot be compared: if too few frames have one, the remaining slots are
   filled uniformly among the frames without a person, and a clip with nobody in it is sampled uniformly.

The result is distinct indices into the track, in temporal order.
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
    "select_keyframes",
    "uniform_indices",
]

DEFAULT_MIN_SCORE = 0.3
# A frame needs this many confident joints for its pose to be compared with other frames.
MIN_VISIBLE_JOINTS = 3
# Upper bound on the number of float64 values in one block of the (F, F, K) distance computation.
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


def _farthest_first(coords: np.ndarray, visible: np.ndarray, num_keyframes: int) -> np.ndarray:
    """The paper's greedy selection over frames that all have a person; indices into those frames."""
    num_frames = len(coords)
    # First keyframe: largest mean distance to all frames (pairs without shared joints are skipped).
    mean_distance = np.zeros(num_frames)
    block = max(1, _BLOCK_VALUES // max(1, num_frames * coords.shape[1]))
    for start in range(0, num_frames, block):
        rows = np.arange(start, min(num_frames, start + block))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean_distance[rows] = np.nanmean(pairwise_pose_distances(coords, visible, rows), axis=1)
    mean_distance = np.nan_to_num(mean_distance, nan=-1.0)

    chosen = np.zeros(num_frames, dtype=bool)
    order = np.arange(num_frames)
    current = _pick(mean_distance, chosen, order)
    selected = [current]
    chosen[current] = True
    while len(selected) < num_keyframes:
        distance = np.nan_to_num(pairwise_pose_distances(coords, visible, np.array([current]))[0], nan=-1.0)
        current = _pick(distance, chosen, order, selected)
        selected.append(current)
        chosen[current] = True
    return np.asarray(selected, dtype=np.int64)


def _pick(score: np.ndarray, chosen: np.ndarray, order: np.ndarray, selected: list[int] | None = None) -> int:
    """Highest-scoring unchosen frame; near-ties go to the frame farthest in time from `selected` (or the middle)."""
    score = np.where(chosen, -np.inf, score)
    best = score.max()
    tied = order[score >= best - 1e-9 * max(1.0, abs(best))]
    if len(tied) == 1:
        return int(tied[0])
    if selected:
        gap = np.abs(tied[:, None] - np.asarray(selected)[None, :]).min(axis=1)
    else:
        gap = -np.abs(tied - (len(order) - 1) / 2)
    return int(tied[np.argmax(gap)])


def select_keyframes(
    keypoints: np.ndarray,
    num_keyframes: int = 16,
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
        `np.ndarray` of shape `(min(num_keyframes, F),)`, `int64`: distinct frame indices in temporal order.
    """
    if isinstance(num_keyframes, bool) or not isinstance(num_keyframes, (int, np.integer)) or num_keyframes < 1:
        raise ValueError(f"`num_keyframes` must be a positive integer, got {num_keyframes!r}")
    keypoints = np.asarray(keypoints)
    num_frames = len(keypoints)
    if num_frames <= num_keyframes:
        return np.arange(num_frames, dtype=np.int64)

    coords, visible = normalize_keypoints(keypoints, keypoint_names, min_score)
    with_person = np.flatnonzero(visible.sum(axis=1) >= MIN_VISIBLE_JOINTS)
    if len(with_person) == 0:
        return uniform_indices(num_frames, num_keyframes)
    if len(with_person) <= num_keyframes:
        without = np.setdiff1d(np.arange(num_frames), with_person)
        fill = without[uniform_indices(len(without), num_keyframes - len(with_person))]
        return np.sort(np.concatenate([with_person, fill]))
    picked = _farthest_first(coords[with_person], visible[with_person], num_keyframes)
    return np.sort(with_person[picked])


def sample_keyframes(
    track: PoseTrack,
    num_keyframes: int = 16,
    min_score: float = DEFAULT_MIN_SCORE,
) -> np.ndarray:
    """Pose-driven keyframes of a `PoseTrack`: `select_keyframes` on its keypoints and layout.

    Returns:
        `np.ndarray` of shape `(min(num_keyframes, F),)`, `int64`: distinct indices into the track, in
        temporal order (`track.frame_indices[result]` are the video frame indices).
    """
    return select_keyframes(track.keypoints, num_keyframes, track.keypoint_names, min_score)
