"""A sample clip made on the spot: a real person photograph gliding, swaying and zooming over a background.

Nothing can be downloaded on these machines, so the demo and the throughput benchmark use scikit-image's
`astronaut` photograph (else matplotlib's `grace_hopper`), which a pose model finds like any person. The motion
is the whole photograph's: translation, rotation, scale; the limbs do not articulate.
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import cv2
import numpy as np

__all__ = ["make_sample_clip", "person_image", "person_placement"]


def person_image() -> np.ndarray:
    try:
        from skimage.data import astronaut

        return astronaut()
    except ImportError:
        import matplotlib

        return cv2.cvtColor(
            cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")), cv2.COLOR_BGR2RGB
        )


def person_placement(n: int, num_frames: int, width: int, height: int, person: np.ndarray) -> tuple[np.ndarray, float]:
    """2x3 affine that places the person photograph in frame `n`, and its scale."""
    t = n / max(1, num_frames - 1)
    scale = 0.9 * height / person.shape[0] * (1.0 + 0.15 * math.sin(2 * math.pi * t))
    angle = 12.0 * math.sin(4 * math.pi * t)
    cx = width * (0.3 + 0.4 * t)
    cy = height * 0.55
    matrix = cv2.getRotationMatrix2D((person.shape[1] / 2, person.shape[0] / 2), angle, scale)
    matrix[:, 2] += [cx - person.shape[1] / 2, cy - person.shape[0] / 2]
    return matrix, scale


def make_sample_clip(path: Path, seconds: float = 10.0, fps: int = 30, size: tuple[int, int] = (1280, 720)) -> Path:
    """Write the synthetic clip (libx264, crf 23) and return its path."""
    width, height = size
    person = person_image()
    num_frames = int(round(seconds * fps))
    rng = np.random.default_rng(0)
    background = cv2.resize(rng.integers(60, 200, (height // 16, width // 16, 3), dtype=np.uint8), (width, height))
    mask = np.full(person.shape[:2], 255, np.uint8)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "23", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(num_frames):
            matrix, _ = person_placement(n, num_frames, width, height, person)
            warped = cv2.warpAffine(person, matrix, (width, height))
            inside = cv2.warpAffine(mask, matrix, (width, height)) > 0
            frame = np.where(inside[..., None], warped, background)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
