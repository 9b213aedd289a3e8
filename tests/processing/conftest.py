"""Synthetic clips for the motion-pathway tests, and a pose backend that "detects" their stick figure.

Each generated frame carries its frame number as an 8-bit code of black/white 8x8 blocks in the
top-left corner, and (unless the clip has no person) a white stick figure drawn at the COCO-17
joint positions `clip_pose(n, ...)` of that frame. `StickFigureBackend` reads the code, predicts the
joints with the same function and reports a person only if the figure is really drawn there, so the
tests exercise decoding, pose bookkeeping, sampling and rendering without any pose model.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from macm.processing.pose import COCO17_NAMES, PersonPose, PoseBackend

CODE_BITS = 8
CODE_BLOCK = 8
FIGURE_LIMBS = [(5, 6), (11, 12), (5, 11), (6, 12), (5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (0, 5), (0, 6)]  # fmt: skip


def clip_pose(frame_number: int, width: int, height: int) -> np.ndarray:
    """`(17, 2)` COCO joint positions in pixels: a figure that walks right and swings its arms."""
    scale = height / 120.0
    cx = width * 0.35 + frame_number * 0.5 * scale
    top = height * 0.2
    swing = math.sin(frame_number / 4.0)
    joints = np.array(
        [
            [0, 0],  # nose
            [-2, -2], [2, -2], [-4, 0], [4, 0],  # eyes, ears
            [-10, 14], [10, 14],  # shoulders (image left = person's right... kept simple)
            [-14 - 8 * swing, 30], [14 + 8 * swing, 30],  # elbows
            [-16 - 14 * swing, 44 - 10 * swing], [16 + 14 * swing, 44 + 10 * swing],  # wrists
            [-7, 48], [7, 48],  # hips
            [-9 + 6 * swing, 66], [9 - 6 * swing, 66],  # knees
            [-10 + 10 * swing, 84], [10 - 10 * swing, 84],  # ankles
        ],
        dtype=np.float64,
    )  # fmt: skip
    return joints * scale + [cx, top]


def draw_code(image: np.ndarray, number: int) -> None:
    for bit in range(CODE_BITS):
        value = 255 if (number >> bit) & 1 else 0
        image[:CODE_BLOCK, bit * CODE_BLOCK : (bit + 1) * CODE_BLOCK] = value


def read_code(image: np.ndarray) -> int:
    blocks = image[2 : CODE_BLOCK - 2, : CODE_BITS * CODE_BLOCK].reshape(CODE_BLOCK - 4, CODE_BITS, CODE_BLOCK, 3)
    bits = blocks[:, :, 2:-2].mean(axis=(0, 2, 3)) > 127
    return int(sum(1 << i for i, on in enumerate(bits) if on))


def draw_figure(image: np.ndarray, joints: np.ndarray) -> None:
    thickness = max(2, image.shape[0] // 40)
    for a, b in FIGURE_LIMBS:
        cv2.line(image, tuple(int(v) for v in joints[a]), tuple(int(v) for v in joints[b]), (255, 255, 255), thickness)
    for x, y in joints:
        cv2.circle(image, (int(x), int(y)), thickness, (255, 255, 255), -1)


def make_clip(
    path: Path,
    num_frames: int = 30,
    fps: int = 30,
    size: tuple[int, int] = (160, 120),
    person: bool = True,
    rotation: int = 0,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    faststart: bool = False,
) -> Path:
    """Write a synthetic clip (libx264, near-lossless) and return its path.

    Args:
        size: (width, height) of the encoded frames.
        person: draw the stick figure.
        rotation: display rotation metadata (counter-clockwise degrees).
        pts / time_base: explicit presentation times, for variable-frame-rate clips.
        faststart: put the index (moov atom) before the frame data.
    """
    width, height = size
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "8", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if time_base is not None:
            stream.codec_context.time_base = time_base
        if rotation:
            stream.set_display_rotation(rotation)
        for n in range(num_frames):
            image = np.full((height, width, 3), 40, dtype=np.uint8)
            draw_code(image, n)
            if person:
                draw_figure(image, clip_pose(n, width, height))
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[n], time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


class StickFigureBackend(PoseBackend):
    """Finds the synthetic clip's stick figure: reads the frame code, predicts the joints, checks they are drawn."""

    name = "stickfigure"
    keypoint_names = COCO17_NAMES

    def __init__(self):
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        self.calls += 1
        height, width = image.shape[:2]
        joints = clip_pose(read_code(image), width, height)
        x, y = joints[[11, 12]].mean(axis=0).round().astype(int)  # on the drawn hip line
        if not (0 <= x < width and 0 <= y < height) or image[y, x].mean() < 128:
            return []
        keypoints = np.concatenate([joints, np.full((17, 1), 0.9)], axis=1).astype(np.float32)
        bbox = np.array([*joints.min(axis=0), *joints.max(axis=0)], dtype=np.float32)
        return [PersonPose(keypoints=keypoints, bbox=bbox, score=0.9)]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip_person(clip_dir) -> Path:
    """2 s, 30 fps, 160x120, a stick figure in every frame."""
    return make_clip(clip_dir / "person.mp4", num_frames=60)


@pytest.fixture(scope="session")
def clip_empty_scene(clip_dir) -> Path:
    """1 s, 30 fps, nobody in it."""
    return make_clip(clip_dir / "empty_scene.mp4", num_frames=30, person=False)


@pytest.fixture(scope="session")
def clip_one_frame(clip_dir) -> Path:
    return make_clip(clip_dir / "one_frame.mp4", num_frames=1)


@pytest.fixture(scope="session")
def clip_zero_byte(clip_dir) -> Path:
    path = clip_dir / "zero.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def clip_text(clip_dir) -> Path:
    path = clip_dir / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    return path


@pytest.fixture(scope="session")
def clip_truncated(clip_dir, clip_person) -> Path:
    """The person clip cut to its first third (the moov atom at the end is lost)."""
    data = clip_person.read_bytes()
    path = clip_dir / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])
    return path


def _write_audio(container, seconds: float = 0.5, rate: int = 16000) -> None:
    stream = container.add_stream("aac", rate=rate)
    stream.layout = "mono"
    for i in range(int(seconds * rate / 1024)):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, i * 1024
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


@pytest.fixture(scope="session")
def clip_audio_only(clip_dir) -> Path:
    path = clip_dir / "audio_only.mp4"
    with av.open(str(path), mode="w") as container:
        _write_audio(container)
    return path


@pytest.fixture(scope="session")
def clip_no_video_frames(clip_dir) -> Path:
    """A Matroska file with a video track that holds no frame (and some audio)."""
    path = clip_dir / "no_video_frames.mkv"
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 64, 32, "yuv420p"
        _write_audio(container)
    return path


@pytest.fixture(scope="session")
def clip_factory():
    """`make_clip(path, num_frames=30, fps=30, size=(160, 120), person=True, rotation=0, pts=None, time_base=None)`."""
    return make_clip


@pytest.fixture(scope="session")
def clip_pose_fn():
    """`clip_pose(frame_number, width, height) -> (17, 2)` joint positions of the synthetic figure."""
    return clip_pose


@pytest.fixture()
def clip_backend() -> StickFigureBackend:
    return StickFigureBackend()


@pytest.fixture()
def clip_cache_dir(tmp_path, monkeypatch) -> Path:
    """A private motion cache for the test (`MACM_CACHE`), so nothing is written to the user's home."""
    cache = tmp_path / "macm-cache"
    monkeypatch.setenv("MACM_CACHE", str(cache))
    return cache
