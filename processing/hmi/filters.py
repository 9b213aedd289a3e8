"""The paper's motion-quality filters, computed on a clip's pose track.

HMI keeps a clip when (M-ACM, "Motion Quality Filtering"):

- a single person is seen in more than 90% of the frames;
- the person's keypoints are visible: at least 12 keypoints scored above 0.5 (COCO-17 layout, face points included,
  as DWPose counts its body keypoints) and at least 2 of the 5 face points;
- the person's box covers more than 1/50 of the frame;
- the person moves (Euclidean keypoint displacement across frames).

The paper gives no frame share for the visibility criteria and no number for the movement criterion; here a frame
must meet both visibility criteria in at least `visible_fraction` (90%, as for the single-person criterion) of the
frames, and `movement` is the mean over joints of each joint's root-mean-square distance from its mean position, in
person heights (BlazePose jitter on a still person scores about 0.006, one waving arm about 0.03).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..pose.people import DEFAULT_MIN_HEIGHT, count_people
from ..pose.types import PoseTrack

__all__ = ["FILTER_NAMES", "FilterConfig", "FilterResult", "apply_filters", "clip_statistics", "movement_score"]

FILTER_NAMES = ("no_person", "single_person", "keypoints", "face", "bbox_small", "static")


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds of the curation filters (defaults: the paper's, where it gives them).

    Args:
        single_person_fraction (`float`, *optional*, defaults to 0.9): a clip needs exactly one person in more than
            this share of its frames.
        other_person_min_height (`float`, *optional*, defaults to 0.5): another person counts against the
            single-person filter from this share of the main person's height (`PoseTrack.person_heights`), so
            far-away spectators do not reject a clip.
        min_keypoints (`int`, *optional*, defaults to 12): keypoints (of COCO-17) scored above `keypoint_score` a
            frame needs.
        min_face_keypoints (`int`, *optional*, defaults to 2): face points (nose, eyes, ears) above `keypoint_score`.
        keypoint_score (`float`, *optional*, defaults to 0.5): confidence above which a keypoint counts as visible.
        visible_fraction (`float`, *optional*, defaults to 0.9): share of frames that must meet both visibility
            criteria.
        min_bbox_fraction (`float`, *optional*, defaults to 0.02): the median person box must cover more than this
            share of the frame (1/50).
        min_movement (`float`, *optional*, defaults to 0.015): smallest `movement_score` of a kept clip.
    """

    single_person_fraction: float = 0.9
    other_person_min_height: float = DEFAULT_MIN_HEIGHT
    min_keypoints: int = 12
    min_face_keypoints: int = 2
    keypoint_score: float = 0.5
    visible_fraction: float = 0.9
    min_bbox_fraction: float = 1 / 50
    min_movement: float = 0.015

    def __post_init__(self):
        for name in ("single_person_fraction", "keypoint_score", "visible_fraction", "min_bbox_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1], got {value}")
        if not 0 <= self.min_keypoints <= 17:
            raise ValueError(f"`min_keypoints` must be in [0, 17] (COCO-17), got {self.min_keypoints}")
        if not 0 <= self.min_face_keypoints <= 5:
            raise ValueError(f"`min_face_keypoints` must be in [0, 5], got {self.min_face_keypoints}")
        if not self.other_person_min_height >= 0:
            raise ValueError(f"`other_person_min_height` must be non-negative, got {self.other_person_min_height}")
        if self.min_movement < 0:
            raise ValueError(f"`min_movement` must be non-negative, got {self.min_movement}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FilterResult:
    """Whether a clip passed, why not, and the statistics the decision was made on.

    Args:
        passed (`bool`): every filter passed.
        reasons (`list[dict]`): one `{"filter", "value", "threshold", "message"}` per failed filter, in
            `FILTER_NAMES` order (a clip without any person gets the single reason `no_person`).
        stats (`dict[str, float]`): `single_person_fraction`, `keypoint_fraction`, `face_fraction`,
            `bbox_fraction`, `movement`, `num_frames`.
    """

    passed: bool
    reasons: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def movement_score(track: PoseTrack, keypoint_score: float = 0.5) -> float:
    """Mean over joints of the joint's root-mean-square distance from its mean position, in person heights.

    Only keypoints scored above `keypoint_score` count; joints visible in fewer than two frames are left out. The
    person height is the median height of the main person's box. Returns 0 when nothing can be measured.
    """
    keypoints = track.keypoints
    visible = (keypoints[..., 2] > keypoint_score) & np.isfinite(keypoints[..., :2]).all(axis=-1)  # (F, K)
    heights = track.bboxes[:, 3] - track.bboxes[:, 1]
    heights = heights[np.isfinite(heights) & (heights > 0)]
    if not len(heights):
        return 0.0
    scale = float(np.median(heights))
    spreads = []
    for joint in range(keypoints.shape[1]):
        points = keypoints[visible[:, joint], joint, :2].astype(np.float64)
        if len(points) >= 2:
            spreads.append(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()) / scale)
    return float(np.mean(spreads)) if spreads else 0.0


def clip_statistics(track: PoseTrack, config: FilterConfig) -> dict:
    """The numbers the filters read, from a track in any layout that has the COCO-17 keypoints."""
    coco = track.to_coco17()
    num = max(1, coco.num_frames)
    scores = coco.keypoints[..., 2]
    # One person: the main person is there and nobody else at least `other_person_min_height` of their height.
    if coco.person_heights is not None:
        counts = count_people(coco.person_heights, config.other_person_min_height)
    else:
        counts = np.asarray(coco.person_counts)
    single = coco.has_person & (counts <= 1)
    keypoints_ok = (scores > config.keypoint_score).sum(axis=1) >= config.min_keypoints
    face_ok = (scores[:, :5] > config.keypoint_score).sum(axis=1) >= config.min_face_keypoints
    height, width = coco.image_size
    boxes = coco.bboxes[coco.has_person]
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0) / max(1, height * width)
    areas = areas[np.isfinite(areas)]
    return {
        "num_frames": coco.num_frames,
        "person_fraction": round(float(coco.has_person.sum() / num), 4),
        "single_person_fraction": round(float(single.sum() / num), 4),
        "keypoint_fraction": round(float((keypoints_ok & coco.has_person).sum() / num), 4),
        "face_fraction": round(float((face_ok & coco.has_person).sum() / num), 4),
        "bbox_fraction": round(float(np.median(areas)) if len(areas) else 0.0, 5),
        "movement": round(movement_score(coco, config.keypoint_score), 5),
    }


def _reason(name: str, value: float, threshold: float, message: str) -> dict:
    return {"filter": name, "value": value, "threshold": round(float(threshold), 5), "message": message}


def apply_filters(track: PoseTrack, config: FilterConfig | None = None) -> FilterResult:
    """Run every filter on a clip's pose track.

    Raises:
        `ValueError`: the track's layout has no COCO-17 keypoints.
    """
    config = config or FilterConfig()
    stats = clip_statistics(track, config)
    if stats["person_fraction"] == 0:
        reason = _reason("no_person", 0.0, 0.0, f"no person found in any of {stats['num_frames']} frames")
        return FilterResult(passed=False, reasons=[reason], stats=stats)
    reasons = []
    if not stats["single_person_fraction"] > config.single_person_fraction:
        reasons.append(
            _reason(
                "single_person",
                stats["single_person_fraction"],
                config.single_person_fraction,
                f"a single person in {stats['single_person_fraction']:.0%} of frames "
                f"(needs more than {config.single_person_fraction:.0%})",
            )
        )
    for name, key, count, what in (
        ("keypoints", "keypoint_fraction", config.min_keypoints, "keypoints"),
        ("face", "face_fraction", config.min_face_keypoints, "face points"),
    ):
        if stats[key] < config.visible_fraction:
            reasons.append(
                _reason(
                    name,
                    stats[key],
                    config.visible_fraction,
                    f">= {count} {what} scored above {config.keypoint_score:g} in {stats[key]:.0%} of frames "
                    f"(needs {config.visible_fraction:.0%})",
                )
            )
    if not stats["bbox_fraction"] > config.min_bbox_fraction:
        reasons.append(
            _reason(
                "bbox_small",
                stats["bbox_fraction"],
                config.min_bbox_fraction,
                f"the person covers {stats['bbox_fraction']:.2%} of the frame (needs more than "
                f"{config.min_bbox_fraction:.2%})",
            )
        )
    if stats["movement"] < config.min_movement:
        reasons.append(
            _reason(
                "static",
                stats["movement"],
                config.min_movement,
                f"keypoint movement {stats['movement']:.4f} person heights (needs {config.min_movement:g})",
            )
        )
    return FilterResult(passed=not reasons, reasons=reasons, stats=stats)
