"""Synthetic pose tracks where the moving limb is known, for the kinematics and consistency tests.

A standing COCO-17 skeleton (metres, camera coordinates: x right, y down, z away from the camera) faces the camera,
so the person's left side is on the image's right. `skeleton_clip` animates chosen limbs over frame ranges (an arm
swings up about its shoulder and back down, a leg kicks forward about its hip, the head nods) and adds a drifting,
shaking camera and keypoint noise.
"""

from __future__ import annotations

import numpy as np

from macm.processing.pose.types import COCO17_NAMES

INDEX = {name: i for i, name in enumerate(COCO17_NAMES)}

STANDING = {
    "nose": (0.0, -0.62, 3.90),
    "left_eye": (0.03, -0.65, 3.92),
    "right_eye": (-0.03, -0.65, 3.92),
    "left_ear": (0.07, -0.63, 3.98),
    "right_ear": (-0.07, -0.63, 3.98),
    "left_shoulder": (0.19, -0.45, 4.0),
    "right_shoulder": (-0.19, -0.45, 4.0),
    "left_elbow": (0.21, -0.17, 4.0),
    "right_elbow": (-0.21, -0.17, 4.0),
    "left_wrist": (0.22, 0.09, 4.0),
    "right_wrist": (-0.22, 0.09, 4.0),
    "left_hip": (0.11, 0.05, 4.0),
    "right_hip": (-0.11, 0.05, 4.0),
    "left_knee": (0.12, 0.50, 4.0),
    "right_knee": (-0.12, 0.50, 4.0),
    "left_ankle": (0.12, 0.93, 4.0),
    "right_ankle": (-0.12, 0.93, 4.0),
}


def standing_pose() -> np.ndarray:
    """`(17, 3)` COCO-17 joints of a person standing 4 m in front of the camera, arms down."""
    return np.array([STANDING[name] for name in COCO17_NAMES], dtype=np.float64)


def _bump(frames: int, start: int, end: int) -> np.ndarray:
    """0 outside [start, end]; rises to 1 over the first third (smoothstep), holds, falls back over the last third."""
    t = np.arange(frames, dtype=np.float64)
    phase = np.clip((t - start) / max(end - start, 1), 0.0, 1.0)
    rise = np.clip(phase / 0.33, 0.0, 1.0)
    fall = np.clip((1.0 - phase) / 0.33, 0.0, 1.0)
    level = np.minimum(rise, fall)
    return level * level * (3.0 - 2.0 * level)


def _rotate_about(points: np.ndarray, pivot: np.ndarray, axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rel = points - pivot
    x, y, z = rel[..., 0], rel[..., 1], rel[..., 2]
    if axis == "z":  # in the image plane
        out = np.stack([c * x - s * y, s * x + c * y, z], axis=-1)
    else:  # about x: forward/backward
        out = np.stack([x, c * y - s * z, s * y + c * z], axis=-1)
    return out + pivot


# limb -> (pivot joint, moved joints, rotation axis, full angle in radians with the sign that lifts it)
MOVES = {
    "right_arm": ("right_shoulder", ("right_elbow", "right_wrist"), "z", np.deg2rad(150.0)),
    "left_arm": ("left_shoulder", ("left_elbow", "left_wrist"), "z", -np.deg2rad(150.0)),
    "right_leg": ("right_hip", ("right_knee", "right_ankle"), "x", np.deg2rad(70.0)),
    "left_leg": ("left_hip", ("left_knee", "left_ankle"), "x", np.deg2rad(70.0)),
    "head": ("nose", ("nose", "left_eye", "right_eye", "left_ear", "right_ear"), "x", np.deg2rad(30.0)),
}


def skeleton_clip(
    moves: list[tuple[str, int, int]],
    frames: int = 24,
    noise: float = 0.004,
    drift: float = 0.03,
    seed: int = 0,
) -> np.ndarray:
    """`(frames, 17, 3)` joints: the standing pose, each `(limb, start, end)` of `moves` swinging and returning.

    Args:
        moves: limbs of `MOVES` with their first and last frame.
        noise: keypoint noise in metres (standard deviation per coordinate).
        drift: camera translation per frame in metres (a slow pan plus shake).
    """
    rng = np.random.default_rng(seed)
    base = standing_pose()
    clip = np.repeat(base[None], frames, axis=0)
    for limb, start, end in moves:
        pivot_name, joint_names, axis, angle = MOVES[limb]
        pivot = base[INDEX[pivot_name]]
        if limb == "head":  # nod about the neck, below the face
            pivot = (base[INDEX["left_shoulder"]] + base[INDEX["right_shoulder"]]) / 2
        joints = [INDEX[name] for name in joint_names]
        for f, level in enumerate(_bump(frames, start, end)):
            clip[f, joints] = _rotate_about(clip[f, joints], pivot, axis, angle * level)
    pan = np.cumsum(np.full((frames, 3), drift) * [1.0, 0.2, 0.0], axis=0)
    shake = rng.normal(0.0, drift / 2, (frames, 1, 3)) * [1.0, 1.0, 0.0]
    return clip + pan[:, None] + shake + rng.normal(0.0, noise, clip.shape)


def project(joints: np.ndarray, focal: float = 500.0, center: tuple[float, float] = (320.0, 240.0)) -> np.ndarray:
    """Pinhole projection of `(F, K, 3)` camera-space joints to `(F, K, 2)` pixels."""
    return joints[..., :2] / joints[..., 2:3] * focal + np.asarray(center)


def mirrored(joints: np.ndarray) -> np.ndarray:
    """The same motion seen from behind: image x flipped, so the person's left side is on the image's left."""
    out = joints.copy()
    out[..., 0] *= -1.0
    out[..., 2] = 8.0 - out[..., 2]
    return out
