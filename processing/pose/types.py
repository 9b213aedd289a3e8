"""Result types shared by every pose backend.

A backend looks at one RGB frame and returns the people it found as `PersonPose`s in its own
keypoint layout; `PoseTrack` holds the main person of every candidate frame of a clip, which is
what keyframe sampling, body recovery, rendering and curation read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["COCO17_NAMES", "PersonPose", "PoseTrack"]

COCO17_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


@dataclass
class PersonPose:
    """One person in one frame.

    Args:
        keypoints (`np.ndarray` of shape `(K, 3)`): x and y in pixels of the full frame, and a score in [0, 1].
        bbox (`np.ndarray` of shape `(4,)`): x0, y0, x1, y1 in pixels.
        score (`float`): detection confidence of the person.
        world_keypoints (`np.ndarray` of shape `(K, 3)`, *optional*): metric 3D joints (metres), hip-centred.
    """

    keypoints: np.ndarray
    bbox: np.ndarray
    score: float
    world_keypoints: np.ndarray | None = None


@dataclass
class PoseTrack:
    """The main person's pose in each candidate frame of a clip.

    Frames without a person have all keypoint scores 0 and NaN coordinates and bbox.

    Args:
        frame_indices (`np.ndarray` of shape `(F,)`): index of each candidate frame in the decoded video.
        timestamps (`np.ndarray` of shape `(F,)`): presentation time of each frame in seconds.
        keypoints (`np.ndarray` of shape `(F, K, 3)`): x, y in pixels and score.
        keypoint_names (`tuple[str, ...]` of length `K`): the backend's keypoint layout.
        image_size (`tuple[int, int]`): (height, width) of the frames, after rotation metadata is applied.
        person_counts (`np.ndarray` of shape `(F,)`): people per frame, counting only those at least
            `people.DEFAULT_MIN_HEIGHT` (half) of the main person's height (see `macm.processing.pose.people`).
        bboxes (`np.ndarray` of shape `(F, 4)`): main person's x0, y0, x1, y1.
        world_keypoints (`np.ndarray` of shape `(F, K, 3)`, *optional*): metric 3D joints when the backend has them.
        backend (`str`): name of the backend that produced the track.
        person_heights (`np.ndarray` of shape `(F, P)`, *optional*): heights of the people seen in each frame
            relative to the main person's (1.0 for the main person, tallest first; relative to the tallest when no
            main person is followed), NaN-padded; `people.count_people` recounts them for any height threshold.
    """

    frame_indices: np.ndarray
    timestamps: np.ndarray
    keypoints: np.ndarray
    keypoint_names: tuple[str, ...]
    image_size: tuple[int, int]
    person_counts: np.ndarray
    bboxes: np.ndarray
    world_keypoints: np.ndarray | None = None
    backend: str = ""
    extras: dict = field(default_factory=dict)
    person_heights: np.ndarray | None = None

    def __post_init__(self):
        if self.keypoints.ndim != 3 or self.keypoints.shape[2] != 3:
            raise ValueError(f"`keypoints` must have shape (F, K, 3), got {self.keypoints.shape}")
        num_frames, num_keypoints = self.keypoints.shape[:2]
        if len(self.keypoint_names) != num_keypoints:
            raise ValueError(
                f"`keypoint_names` has {len(self.keypoint_names)} names but `keypoints` has {num_keypoints} keypoints"
            )
        for name in ("frame_indices", "timestamps", "person_counts", "bboxes", "person_heights"):
            if getattr(self, name) is not None and len(getattr(self, name)) != num_frames:
                raise ValueError(
                    f"`{name}` has {len(getattr(self, name))} rows but `keypoints` has {num_frames} frames"
                )

    @property
    def num_frames(self) -> int:
        return int(self.keypoints.shape[0])

    @property
    def has_person(self) -> np.ndarray:
        """`(F,)` bool: the main person was found in the frame."""
        return self.keypoints[..., 2].max(axis=1) > 0

    def to_coco17(self) -> PoseTrack:
        """The same track in the COCO-17 layout (by keypoint name), which sampling and filtering use."""
        missing = [name for name in COCO17_NAMES if name not in self.keypoint_names]
        if missing:
            raise ValueError(f"Backend layout {self.backend!r} has no COCO-17 keypoints {missing}")
        index = [self.keypoint_names.index(name) for name in COCO17_NAMES]
        return PoseTrack(
            frame_indices=self.frame_indices,
            timestamps=self.timestamps,
            keypoints=self.keypoints[:, index],
            keypoint_names=COCO17_NAMES,
            image_size=self.image_size,
            person_counts=self.person_counts,
            bboxes=self.bboxes,
            world_keypoints=None if self.world_keypoints is None else self.world_keypoints[:, index],
            backend=self.backend,
            person_heights=self.person_heights,
        )

    def save_npz(self, path: str | Path) -> None:
        arrays = {
            "frame_indices": self.frame_indices,
            "timestamps": self.timestamps,
            "keypoints": self.keypoints,
            "keypoint_names": np.asarray(self.keypoint_names),
            "image_size": np.asarray(self.image_size),
            "person_counts": self.person_counts,
            "bboxes": self.bboxes,
            "backend": np.asarray(self.backend),
        }
        if self.world_keypoints is not None:
            arrays["world_keypoints"] = self.world_keypoints
        if self.person_heights is not None:
            arrays["person_heights"] = self.person_heights
        np.savez_compressed(path, **arrays)

    @classmethod
    def load_npz(cls, path: str | Path) -> PoseTrack:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                frame_indices=data["frame_indices"],
                timestamps=data["timestamps"],
                keypoints=data["keypoints"],
                keypoint_names=tuple(str(name) for name in data["keypoint_names"]),
                image_size=tuple(int(v) for v in data["image_size"]),
                person_counts=data["person_counts"],
                bboxes=data["bboxes"],
                world_keypoints=data.get("world_keypoints"),
                backend=str(data["backend"]),
                person_heights=data.get("person_heights"),
            )
