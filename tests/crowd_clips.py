"""Clips of several real people, composed from photographs in installed wheels (nothing can be downloaded).

The subject is scikit-image's `astronaut`, moving across the frame; the others are matplotlib's `grace_hopper`,
and mirrored copies of both, each placed at a height relative to the subject's
photograph and drifting slowly, over scikit-image's `rocket` photograph scaled to the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import matplotlib
import numpy as np
from skimage import data as skimage_data

__all__ = ["Figure", "make_crowd_clip", "photographs"]


def photographs() -> dict[str, np.ndarray]:
    """RGB uint8 photographs of people: `astronaut`, `grace_hopper` and their mirror images `mirrored_...`."""
    hopper = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    photos = {"astronaut": skimage_data.astronaut(), "grace_hopper": cv2.cvtColor(hopper, cv2.COLOR_BGR2RGB)}
    return {**photos, **{f"mirrored_{name}": np.ascontiguousarray(photo[:, ::-1]) for name, photo in photos.items()}}


@dataclass(frozen=True)
class Figure:
    """A photograph in the clip: its name, height relative to the subject's photograph, and where its centre is
    (fractions of the frame width and height)."""

    name: str
    relative_height: float
    x: float
    y: float = 0.55


def make_crowd_clip(
    path: Path,
    others: list[Figure],
    subject_height: float = 0.6,
    num_frames: int = 20,
    fps: int = 10,
    size: tuple[int, int] = (1280, 720),
) -> Path:
    """Write a clip with the subject (an astronaut `subject_height` of the frame tall, walking from left to centre and
    swaying) and `others`; returns `path`."""
    width, height = size
    photos = photographs()
    background = cv2.resize(skimage_data.rocket(), (width, height), interpolation=cv2.INTER_AREA)
    subject_px = subject_height * height
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "18", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(num_frames):
            t = n / max(1, num_frames - 1)
            frame = background.copy()
            placed = [
                Figure(f.name, f.relative_height, f.x + 0.02 * np.sin(3 * t + i), f.y) for i, f in enumerate(others)
            ]
            placed.append(Figure("astronaut", 1.0, 0.18 + 0.12 * t, 0.5 + 0.03 * np.sin(6 * t)))
            for figure in placed:
                photo = photos[figure.name]
                scale = figure.relative_height * subject_px / photo.shape[0]
                matrix = cv2.getRotationMatrix2D((photo.shape[1] / 2, photo.shape[0] / 2), 0.0, scale)
                matrix[:, 2] += [figure.x * width - photo.shape[1] / 2, figure.y * height - photo.shape[0] / 2]
                warped = cv2.warpAffine(photo, matrix, (width, height), flags=cv2.INTER_AREA)
                inside = cv2.warpAffine(np.full(photo.shape[:2], 255, np.uint8), matrix, (width, height)) > 127
                frame[inside] = warped[inside]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
