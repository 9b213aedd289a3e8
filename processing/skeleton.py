"""Part-coloured skeletons: which joints make which limb, and what colour each body part gets.

The motion pathway shows the vision encoder the body drawn over the frame; its point is to make
left/right and hand/foot unambiguous. So every limb carries a body part and a side, and the colour
table keeps the sides apart: the left arm and left leg are warm (reds, oranges, magentas), the right
arm and right leg cool (blues, cyans, greens), the torso and head neutral.

Limbs are named by joint, so one list serves COCO-17 and BlazePose-33 (and any layout with the same
names); limbs whose joints a layout lacks are skipped. Two virtual joints, `neck` (shoulder centre)
and `pelvis` (hip centre), are derived where both parents are present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BLAZEPOSE33_NAMES",
    "LIMBS",
    "PART_COLORS",
    "Limb",
    "SkeletonLayout",
    "limb_color",
    "resolve_layout",
    "with_virtual_joints",
]

BLAZEPOSE33_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

VIRTUAL_JOINTS: dict[str, tuple[str, str]] = {
    "neck": ("left_shoulder", "right_shoulder"),
    "pelvis": ("left_hip", "right_hip"),
}


@dataclass(frozen=True)
class Limb:
    """A segment between two named joints.

    Args:
        start (`str`): proximal joint name.
        end (`str`): distal joint name.
        part (`str`): body part, a key of `PART_COLORS` together with `side`.
        side (`str`): `"left"`, `"right"` or `"center"`.
    """

    start: str
    end: str
    part: str
    side: str


def _sided(start: str, end: str, part: str) -> list[Limb]:
    return [Limb(f"{side}_{start}", f"{side}_{end}", part, side) for side in ("left", "right")]


LIMBS: tuple[Limb, ...] = (
    # torso and head: drawn first, so limbs sit on top when there is no depth to order by
    Limb("left_shoulder", "right_shoulder", "torso", "center"),
    Limb("left_hip", "right_hip", "torso", "center"),
    *_sided("shoulder", "hip", "torso"),
    Limb("neck", "nose", "head", "center"),
    Limb("nose", "left_eye", "head", "left"),
    Limb("nose", "right_eye", "head", "right"),
    *_sided("eye", "ear", "head"),
    Limb("mouth_left", "mouth_right", "head", "center"),
    # arms
    *_sided("shoulder", "elbow", "upper_arm"),
    *_sided("elbow", "wrist", "forearm"),
    *_sided("wrist", "pinky", "hand"),
    *_sided("wrist", "index", "hand"),
    *_sided("wrist", "thumb", "hand"),
    *_sided("pinky", "index", "hand"),
    # legs
    *_sided("hip", "knee", "thigh"),
    *_sided("knee", "ankle", "shin"),
    *_sided("ankle", "heel", "foot"),
    *_sided("heel", "foot_index", "foot"),
    *_sided("ankle", "foot_index", "foot"),
)

# RGB. Left side warm, right side cool, torso and head neutral; each part a different shade so that
# upper arm / forearm / hand and thigh / shin / foot are also told apart.
PART_COLORS: dict[tuple[str, str], tuple[int, int, int]] = {
    ("upper_arm", "left"): (230, 30, 30),  # red
    ("forearm", "left"): (255, 140, 0),  # orange
    ("hand", "left"): (255, 215, 0),  # gold
    ("thigh", "left"): (200, 0, 130),  # magenta
    ("shin", "left"): (255, 80, 160),  # pink
    ("foot", "left"): (255, 170, 120),  # peach
    ("upper_arm", "right"): (30, 80, 240),  # blue
    ("forearm", "right"): (0, 180, 255),  # sky blue
    ("hand", "right"): (100, 240, 255),  # cyan
    ("thigh", "right"): (0, 150, 70),  # green
    ("shin", "right"): (80, 220, 120),  # light green
    ("foot", "right"): (0, 210, 190),  # teal
    ("torso", "center"): (200, 200, 200),
    ("torso", "left"): (200, 200, 200),
    ("torso", "right"): (200, 200, 200),
    ("head", "center"): (245, 240, 220),
    ("head", "left"): (245, 240, 220),
    ("head", "right"): (245, 240, 220),
}


def limb_color(limb: Limb) -> tuple[int, int, int]:
    """RGB colour of a limb from `PART_COLORS`."""
    try:
        return PART_COLORS[(limb.part, limb.side)]
    except KeyError:
        raise ValueError(f"No colour for body part {limb.part!r} on side {limb.side!r}") from None


@dataclass(frozen=True)
class SkeletonLayout:
    """The limbs of one keypoint layout, as index pairs into its (virtual-joint-extended) keypoints.

    Args:
        names (`tuple[str, ...]`): the layout's names followed by the virtual joints it supports.
        pairs (`np.ndarray` of shape `(L, 2)`): start and end joint index of each drawable limb.
        colors (`np.ndarray` of shape `(L, 3)`, `uint8`): RGB of each limb.
        limbs (`tuple[Limb, ...]` of length `L`): the limbs themselves.
        joint_colors (`np.ndarray` of shape `(J, 3)`, `uint8`): colour of each joint's disc (that of the
            limb ending at it, else of a limb starting at it).
        drawn_joints (`np.ndarray` of shape `(D,)`): joints that belong to some limb.
        num_real (`int`): number of joints of the original layout (virtual ones come after).
    """

    names: tuple[str, ...]
    pairs: np.ndarray
    colors: np.ndarray
    limbs: tuple[Limb, ...]
    joint_colors: np.ndarray
    drawn_joints: np.ndarray
    num_real: int


_LAYOUT_CACHE: dict[tuple[str, ...], SkeletonLayout] = {}


def resolve_layout(keypoint_names: Sequence[str]) -> SkeletonLayout:
    """The drawable limbs of a keypoint layout (cached per layout).

    Raises:
        `ValueError`: no limb of `LIMBS` can be drawn with these names.
    """
    key = tuple(keypoint_names)
    if key in _LAYOUT_CACHE:
        return _LAYOUT_CACHE[key]
    virtual = [name for name, (a, b) in VIRTUAL_JOINTS.items() if a in key and b in key and name not in key]
    names = key + tuple(virtual)
    index = {name: i for i, name in enumerate(names)}
    limbs = tuple(limb for limb in LIMBS if limb.start in index and limb.end in index)
    if not limbs:
        raise ValueError(f"Keypoint layout has no drawable limb: names {list(key)[:8]}...")
    pairs = np.array([(index[limb.start], index[limb.end]) for limb in limbs], dtype=np.int64)
    colors = np.array([limb_color(limb) for limb in limbs], dtype=np.uint8)
    joint_colors = np.zeros((len(names), 3), dtype=np.uint8)
    for (start, _), color in reversed(list(zip(pairs, colors, strict=True))):
        joint_colors[start] = color
    for (_, end), color in zip(pairs, colors, strict=True):
        joint_colors[end] = color
    layout = SkeletonLayout(
        names=names,
        pairs=pairs,
        colors=colors,
        limbs=limbs,
        joint_colors=joint_colors,
        drawn_joints=np.unique(pairs),
        num_real=len(key),
    )
    _LAYOUT_CACHE[key] = layout
    return layout


def with_virtual_joints(points: np.ndarray, layout: SkeletonLayout, has_score: bool = True) -> np.ndarray:
    """Append the layout's virtual joints (mean of their two parents) to per-joint values.

    Args:
        points (`np.ndarray` of shape `(K, C)`): per-joint values in the original layout (x, y, score, or
            3D coordinates).
        layout (`SkeletonLayout`): from `resolve_layout` of that layout.
        has_score (`bool`, *optional*, defaults to `True`): the last column is a score; a virtual joint's
            score is then the smaller of its parents' scores rather than their mean.

    Returns:
        `np.ndarray` of shape `(J, C)`: the points with the virtual joints appended.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) != layout.num_real:
        raise ValueError(f"Expected {layout.num_real} keypoints for this layout, got {len(points)}")
    extra = []
    for name in layout.names[layout.num_real :]:
        a, b = (layout.names.index(parent) for parent in VIRTUAL_JOINTS[name])
        joint = (points[a] + points[b]) / 2
        if has_score:
            joint[-1] = min(points[a, -1], points[b, -1])
        extra.append(joint)
    return np.concatenate([points, np.asarray(extra).reshape(-1, points.shape[1])], axis=0)
