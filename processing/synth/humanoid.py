"""An articulated humanoid: random body proportions and forward kinematics to 3D joints.

World frame (metres): `y` up, `x` towards the person's *left*, `z` the way the person faces at rest (so
`x, y, z` is right-handed). A pose is one float vector of joint angles in degrees (`POSE_PARAMS` order),
expressed as offsets from the rest pose; `forward_kinematics` turns it into the positions of `JOINT_NAMES`,
whose first 17 are COCO-17 (`macm.processing.pose.COCO17_NAMES`). The body is then put on the ground: the
lowest foot point touches `y = 0`, and `root_lift` (a jump) raises it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pose.types import COCO17_NAMES

__all__ = [
    "EXTRA_JOINT_NAMES",
    "JOINT_NAMES",
    "POSE_PARAMS",
    "BodyShape",
    "forward_kinematics",
    "joint_index",
    "neutral_pose",
    "sample_body_shape",
]

_SIDED_PARAMS = (
    "shoulder_flex",  # arm forward/up about the left-right axis
    "shoulder_abduct",  # arm out to the side (and up)
    "shoulder_horizontal",  # raised arm swung outwards (+) or across the body (-) about the vertical
    "shoulder_twist",  # rotation about the upper arm's long axis (turns the elbow's bending plane)
    "elbow_flex",
    "hip_flex",  # thigh forward/up
    "hip_abduct",  # leg out to the side
    "knee_flex",
)

POSE_PARAMS: tuple[str, ...] = (
    "root_yaw",  # degrees, positive turns towards the person's left
    "root_side",  # metres towards the person's left (the body frame at the action's start; see actions.py)
    "root_forward",  # metres forwards
    "root_lift",  # metres above the ground (jumps)
    "spine_bend",  # forwards
    "spine_lean",  # towards the person's left
    "spine_twist",  # chest turned towards the person's left
    "neck_pitch",  # head down (nod)
    "neck_yaw",  # head turned towards the person's left
    *(f"{side}_{name}" for side in ("left", "right") for name in _SIDED_PARAMS),
)

EXTRA_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "chest",  # shoulder centre on the spine
    "head",  # centre of the head
    "face",  # centre of the face marker (in front of the head)
    "hair",  # centre of the hair cap (behind the head)
    "left_hand",
    "right_hand",
    "left_toe",
    "right_toe",
)
JOINT_NAMES: tuple[str, ...] = COCO17_NAMES + EXTRA_JOINT_NAMES
_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
_PARAM = {name: i for i, name in enumerate(POSE_PARAMS)}


def joint_index(name: str) -> int:
    """Index of a joint in `JOINT_NAMES`."""
    try:
        return _INDEX[name]
    except KeyError:
        raise ValueError(f"Unknown joint {name!r}; known: {list(JOINT_NAMES)}") from None


@dataclass(frozen=True)
class BodyShape:
    """Proportions of one humanoid (metres), left/right symmetric.

    Args:
        height (`float`): standing height, for reference.
        spine (`float`): pelvis to shoulder centre.
        neck (`float`): shoulder centre to the base of the head.
        head_radius (`float`): radius of the head sphere.
        shoulder_half_width (`float`): shoulder centre to each shoulder joint.
        hip_half_width (`float`): pelvis to each hip joint.
        upper_arm, forearm, hand (`float`): arm segment lengths.
        thigh, shin, foot (`float`): leg segment lengths; `ankle_height` is the ankle above the sole.
        arm_radius, leg_radius (`float`): limb thickness at the shoulder and hip (tapering distally).
        torso_depth (`float`): front-to-back half thickness of the torso.
    """

    height: float
    spine: float
    neck: float
    head_radius: float
    shoulder_half_width: float
    hip_half_width: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shin: float
    foot: float
    ankle_height: float
    arm_radius: float
    leg_radius: float
    torso_depth: float

    def __post_init__(self):
        for name, value in vars(self).items():
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"`BodyShape.{name}` must be a positive length, got {value}")


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """Random adult-like proportions: height 1.55-1.95 m, each segment varied by about +-8%, build by +-25%."""
    height = float(rng.uniform(1.55, 1.95))

    def seg(fraction: float) -> float:
        return float(height * fraction * rng.uniform(0.92, 1.08))

    build = float(rng.uniform(0.8, 1.25))
    return BodyShape(
        height=height,
        spine=seg(0.29),
        neck=seg(0.035),
        head_radius=seg(0.062),
        shoulder_half_width=seg(0.105) * (0.9 + 0.1 * build),
        hip_half_width=seg(0.055) * (0.9 + 0.1 * build),
        upper_arm=seg(0.175),
        forearm=seg(0.15),
        hand=seg(0.055),
        thigh=seg(0.245),
        shin=seg(0.235),
        foot=seg(0.12),
        ankle_height=seg(0.04),
        arm_radius=seg(0.026) * build,
        leg_radius=seg(0.04) * build,
        torso_depth=seg(0.06) * build,
    )


def neutral_pose(rng: np.random.Generator | None = None) -> np.ndarray:
    """The rest pose (arms hanging slightly away from the body, elbows soft), with a little variation."""
    pose = np.zeros(len(POSE_PARAMS))
    jitter = (lambda scale: float(rng.uniform(-scale, scale))) if rng is not None else (lambda scale: 0.0)
    abduct, elbow, hip = 9.0 + jitter(3.0), 10.0 + jitter(5.0), 2.0 + jitter(1.5)
    for side in ("left", "right"):
        pose[_PARAM[f"{side}_shoulder_abduct"]] = abduct
        pose[_PARAM[f"{side}_elbow_flex"]] = elbow
        pose[_PARAM[f"{side}_hip_abduct"]] = hip
    return pose


def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


_DOWN = np.array([0.0, -1.0, 0.0])
_UP = np.array([0.0, 1.0, 0.0])


def _pose_joints(shape: BodyShape, pose: np.ndarray) -> np.ndarray:
    """Joints of one pose with the pelvis at the origin (before grounding and root translation)."""
    p = dict(zip(POSE_PARAMS, np.asarray(pose, dtype=np.float64), strict=True))
    rad = np.deg2rad
    joints = np.zeros((len(JOINT_NAMES), 3))
    root = _ry(rad(p["root_yaw"]))
    spine = root @ _ry(rad(p["spine_twist"])) @ _rx(rad(p["spine_bend"])) @ _rz(rad(-p["spine_lean"]))
    pelvis = np.zeros(3)
    chest = pelvis + spine @ (_UP * shape.spine)
    head_rot = spine @ _ry(rad(p["neck_yaw"])) @ _rx(rad(p["neck_pitch"]))
    r = shape.head_radius
    head = chest + spine @ (_UP * shape.neck) + head_rot @ np.array([0.0, r, 0.0])
    joints[_INDEX["pelvis"]], joints[_INDEX["chest"]], joints[_INDEX["head"]] = pelvis, chest, head
    for name, local in (
        ("nose", (0.0, -0.15, 0.98)),
        ("left_eye", (0.38, 0.2, 0.86)),
        ("right_eye", (-0.38, 0.2, 0.86)),
        ("left_ear", (0.97, 0.0, -0.05)),
        ("right_ear", (-0.97, 0.0, -0.05)),
        ("face", (0.0, 0.12, 0.5)),
        ("hair", (0.0, 0.16, -0.14)),
    ):
        joints[_INDEX[name]] = head + head_rot @ (np.array(local) * r)
    for side, s in (("left", 1.0), ("right", -1.0)):
        shoulder = chest + spine @ np.array([s * shape.shoulder_half_width, -0.02 * shape.spine, 0.0])
        upper = (
            spine
            @ _ry(rad(s * p[f"{side}_shoulder_horizontal"]))
            @ _rz(rad(s * p[f"{side}_shoulder_abduct"]))
            @ _rx(rad(-p[f"{side}_shoulder_flex"]))
            @ _ry(rad(s * p[f"{side}_shoulder_twist"]))
        )
        elbow = shoulder + upper @ (_DOWN * shape.upper_arm)
        lower = upper @ _rx(rad(-p[f"{side}_elbow_flex"]))
        wrist = elbow + lower @ (_DOWN * shape.forearm)
        hand = wrist + lower @ (_DOWN * shape.hand * 0.6)
        hip = pelvis + root @ np.array([s * shape.hip_half_width, 0.0, 0.0])
        thigh = root @ _rz(rad(s * p[f"{side}_hip_abduct"])) @ _rx(rad(-p[f"{side}_hip_flex"]))
        knee = hip + thigh @ (_DOWN * shape.thigh)
        shin = thigh @ _rx(rad(p[f"{side}_knee_flex"]))
        ankle = knee + shin @ (_DOWN * shape.shin)
        toe = ankle + shin @ np.array([0.0, -0.6 * shape.ankle_height, shape.foot * 0.85])
        for name, value in (
            ("shoulder", shoulder),
            ("elbow", elbow),
            ("wrist", wrist),
            ("hand", hand),
            ("hip", hip),
            ("knee", knee),
            ("ankle", ankle),
            ("toe", toe),
        ):
            joints[_INDEX[f"{side}_{name}"]] = value
    return joints


def forward_kinematics(shape: BodyShape, poses: np.ndarray, root_offsets: np.ndarray | None = None) -> np.ndarray:
    """World positions of `JOINT_NAMES` for a sequence of poses, standing on the ground plane `y = 0`.

    Args:
        shape (`BodyShape`): the body's proportions.
        poses (`np.ndarray` of shape `(F, P)`): joint angles per frame, `POSE_PARAMS` order (`root_side` and
            `root_forward` are ignored here: horizontal placement comes from `root_offsets`).
        root_offsets (`np.ndarray` of shape `(F, 2)`, *optional*): world `x` and `z` of the pelvis per frame.

    Returns:
        `np.ndarray` of shape `(F, J, 3)`: joints in metres, world frame.
    """
    poses = np.atleast_2d(np.asarray(poses, dtype=np.float64))
    if poses.ndim != 2 or poses.shape[1] != len(POSE_PARAMS):
        raise ValueError(f"`poses` must have shape (F, {len(POSE_PARAMS)}), got {poses.shape}")
    out = np.stack([_pose_joints(shape, pose) for pose in poses])  # (F, J, 3)
    feet = [_INDEX[name] for name in ("left_ankle", "right_ankle")]
    toes = [_INDEX[name] for name in ("left_toe", "right_toe")]
    sole = np.minimum(out[:, feet, 1].min(axis=1) - shape.ankle_height, out[:, toes, 1].min(axis=1) - 0.02)  # (F,)
    out[..., 1] -= sole[:, None]
    out[..., 1] += poses[:, _PARAM["root_lift"], None]
    if root_offsets is not None:
        root_offsets = np.asarray(root_offsets, dtype=np.float64)
        if root_offsets.shape != (len(poses), 2):
            raise ValueError(f"`root_offsets` must have shape ({len(poses)}, 2), got {root_offsets.shape}")
        out[..., 0] += root_offsets[:, None, 0]
        out[..., 2] += root_offsets[:, None, 1]
    return out
