"""The interface every pose backend implements, and the loop that turns frames into a `PoseTrack`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from .people import DEFAULT_MIN_HEIGHT, count_people, relative_heights
from .types import PersonPose, PoseTrack

__all__ = ["PoseBackend", "select_main_person"]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def select_main_person(people: list[PersonPose], previous_bbox: np.ndarray | None) -> PersonPose | None:
    """The person to follow: best overlap with the previous frame's main person, else the largest box."""
    if not people:
        return None
    if previous_bbox is not None and np.isfinite(previous_bbox).all():
        overlaps = [_iou(person.bbox, previous_bbox) for person in people]
        if max(overlaps) > 0.1:
            return people[int(np.argmax(overlaps))]
    areas = [(p.bbox[2] - p.bbox[0]) * (p.bbox[3] - p.bbox[1]) for p in people]
    return people[int(np.argmax(areas))]


class PoseBackend(ABC):
    """A pose estimator: RGB frame in, people with keypoints out.

    Subclasses set `name` and `keypoint_names` and implement `detect`. Backends that track across
    frames (using the previous frame's pose as the next region of interest) keep that state between
    `detect` calls and clear it in `reset`; `track` calls `reset` before each clip.
    """

    name: str = ""
    keypoint_names: tuple[str, ...] = ()
    has_world_keypoints: bool = False
    # Others count in `PoseTrack.person_counts` from this share of the main person's height (`people.count_people`).
    min_person_height: float = DEFAULT_MIN_HEIGHT

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[PersonPose]:
        """People in one frame.

        Args:
            image (`np.ndarray` of shape `(H, W, 3)`, `uint8`): the frame, RGB.

        Returns:
            `list[PersonPose]`: every person found, keypoints in `keypoint_names` order, in frame pixels.
        """

    def person_heights(self, people: list[PersonPose], main: PersonPose | None) -> np.ndarray:
        """Heights of the people in the last frame relative to `main` (`people.relative_heights`), from their boxes.

        Backends that see more people than they return (BlazePose returns its main person only) override this.
        """

        def height(person: PersonPose) -> float:
            return float(person.bbox[3] - person.bbox[1])

        return relative_heights(None if main is None else height(main), [height(p) for p in people if p is not main])

    def reset(self) -> None:  # noqa: B027 (optional hook: stateless backends have nothing to forget)
        """Forget tracking state before a new clip."""

    def track(
        self,
        frames: Iterable[tuple[int, float, np.ndarray]],
        image_size: tuple[int, int] | None = None,
    ) -> PoseTrack:
        """Run the backend over `(frame_index, timestamp, rgb)` triples and follow the main person."""
        self.reset()
        num_keypoints = len(self.keypoint_names)
        indices, times, keypoints, world, heights, boxes = [], [], [], [], [], []
        previous_bbox = None
        for frame_index, timestamp, image in frames:
            image_size = image_size or (int(image.shape[0]), int(image.shape[1]))
            people = self.detect(image)
            main = select_main_person(people, previous_bbox)
            indices.append(frame_index)
            times.append(timestamp)
            heights.append(self.person_heights(people, main))
            if main is None:
                keypoints.append(
                    np.concatenate([np.full((num_keypoints, 2), np.nan), np.zeros((num_keypoints, 1))], 1)
                )
                world.append(np.full((num_keypoints, 3), np.nan))
                boxes.append(np.full(4, np.nan))
            else:
                keypoints.append(main.keypoints)
                world.append(
                    main.world_keypoints if main.world_keypoints is not None else np.full((num_keypoints, 3), np.nan)
                )
                boxes.append(main.bbox)
                previous_bbox = main.bbox
        if not indices:
            raise ValueError("No frames to run pose estimation on: the clip decoded to zero frames")
        person_heights = np.full((len(heights), max(1, *map(len, heights))), np.nan, dtype=np.float32)
        for row, values in enumerate(heights):
            person_heights[row, : len(values)] = values
        return PoseTrack(
            frame_indices=np.asarray(indices, dtype=np.int64),
            timestamps=np.asarray(times, dtype=np.float64),
            keypoints=np.stack(keypoints).astype(np.float32),
            keypoint_names=tuple(self.keypoint_names),
            image_size=image_size,
            person_counts=count_people(person_heights, self.min_person_height),
            bboxes=np.stack(boxes).astype(np.float32),
            world_keypoints=np.stack(world).astype(np.float32) if self.has_world_keypoints else None,
            backend=self.name,
            person_heights=person_heights,
            extras={"min_person_height": self.min_person_height},
        )
