"""Streaming video decoding with PyAV.

A clip is never held in memory whole: `iter_frames` yields the candidate frames one at a time (every
`stride`-th decoded frame, by default enough to keep candidates at or below ~10 fps), and
`read_frames` fetches chosen frames in a second streaming pass. Timestamps come from each frame's
presentation time (`pts * time_base`), so variable-frame-rate clips get their real times, and the
display rotation stored in the container (phone clips) is applied to every frame.

Every way a file can fail to be a decodable video (missing, empty, truncated, not a video, no video
stream, zero frames) raises `VideoDecodeError` with a one-line message.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

__all__ = [
    "DEFAULT_MAX_CANDIDATE_FPS",
    "VideoDecodeError",
    "VideoInfo",
    "default_stride",
    "iter_frames",
    "prefetch",
    "probe_video",
    "read_frames",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_CANDIDATE_FPS = 10.0


class VideoDecodeError(ValueError):
    """The file is not a decodable video. The message is one line, fit for a command-line error."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip is, read from its container and first frame.

    Args:
        path (`str`): the file.
        fps (`float`): average frame rate of the video stream.
        duration (`float`): length in seconds (container or stream metadata; an estimate for some files).
        num_frames (`int`): number of frames (from the container when it says, else `duration * fps`).
        width (`int`): frame width in pixels after the display rotation is applied.
        height (`int`): frame height in pixels after the display rotation is applied.
        rotation (`int`): counter-clockwise display rotation in degrees (0, 90, 180 or 270).
        codec (`str`): name of the video codec.
    """

    path: str
    fps: float
    duration: float
    num_frames: int
    width: int
    height: int
    rotation: int
    codec: str

    def to_dict(self) -> dict:
        return asdict(self)


def _one_line(error: BaseException) -> str:
    """A short reason: FFmpeg's own error text without the errno and file name PyAV adds."""
    strerror = getattr(error, "strerror", None)
    if isinstance(strerror, str) and strerror.strip():
        return strerror.strip().splitlines()[0]
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise VideoDecodeError(f"{path}: no such file")
    if not path.is_file():
        raise VideoDecodeError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: file is empty (0 bytes)")
    return path


def _open(path: str | os.PathLike) -> tuple[Path, av.container.InputContainer, av.video.stream.VideoStream]:
    path = _check_file(path)
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise VideoDecodeError(f"{path}: not a readable video ({_one_line(error)})") from None
    if not container.streams.video:
        kinds = sorted({stream.type for stream in container.streams}) or ["none"]
        container.close()
        raise VideoDecodeError(f"{path}: no video stream (streams: {', '.join(kinds)})")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return path, container, stream


def _normalise_rotation(degrees: float | int | None) -> int:
    if degrees is None:
        return 0
    return int(round(float(degrees) / 90.0)) % 4 * 90


def _metadata_rotation(stream: av.video.stream.VideoStream) -> int:
    """The legacy `rotate` tag (clockwise degrees), as a counter-clockwise rotation."""
    tag = stream.metadata.get("rotate")
    try:
        return _normalise_rotation(-float(tag)) if tag is not None else 0
    except ValueError:
        return 0


def _frame_rotation(frame: av.VideoFrame, fallback: int) -> int:
    rotation = getattr(frame, "rotation", None)
    return _normalise_rotation(rotation) if rotation else fallback


def _to_rgb(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    """`(H, W, 3)` uint8 RGB with the display rotation applied."""
    image = frame.to_ndarray(format="rgb24")
    if rotation:
        image = np.ascontiguousarray(np.rot90(image, k=rotation // 90))
    return image


def _decode(path: Path, container, stream) -> Iterator[av.VideoFrame]:
    """Decoded frames in presentation order; a decoding error mid-file ends the clip with a warning."""
    decoded = 0
    try:
        for frame in container.decode(stream):
            decoded += 1
            yield frame
    except av.FFmpegError as error:
        if decoded == 0:
            raise VideoDecodeError(f"{path}: could not decode any frame ({_one_line(error)})") from None
        logger.warning("%s: decoding stopped after %d frames (%s)", path, decoded, _one_line(error))


def _stream_fps(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and float(rate) > 0:
            return float(rate)
    return 0.0


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a clip's `VideoInfo`, decoding its first frame to check it is a video and to read its rotation.

    Raises:
        `VideoDecodeError`: the file is missing, empty, not a video, has no video stream or no decodable frame.
    """
    path, container, stream = _open(path)
    with container:
        first = next(iter(_decode(path, container, stream)), None)
        if first is None:
            raise VideoDecodeError(f"{path}: the video stream decodes to zero frames")
        rotation = _frame_rotation(first, _metadata_rotation(stream))
        fps = _stream_fps(stream)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        num_frames = int(stream.frames) if stream.frames else max(1, int(round(duration * fps)))
        if duration <= 0 and fps > 0:
            duration = num_frames / fps
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(
            path=str(path),
            fps=fps,
            duration=duration,
            num_frames=num_frames,
            width=int(width),
            height=int(height),
            rotation=rotation,
            codec=stream.codec_context.name,
        )


def default_stride(fps: float, max_fps: float = DEFAULT_MAX_CANDIDATE_FPS) -> int:
    """The smallest frame stride that keeps candidate frames at or below `max_fps` (1 when `fps` is unknown)."""
    if max_fps <= 0:
        raise ValueError(f"`max_fps` must be positive, got {max_fps}")
    if not fps or not math.isfinite(fps) or fps <= max_fps:
        return 1
    return max(1, math.ceil(fps / max_fps - 1e-6))


def _iter_decoded(path: str | os.PathLike, stride: int | None) -> Iterator[tuple[int, float, av.VideoFrame, int]]:
    """`(frame_index, timestamp, frame, rotation)` for every `stride`-th frame, not yet converted to RGB."""
    if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int) or stride < 1):
        raise ValueError(f"`stride` must be a positive integer, got {stride!r}")
    path, container, stream = _open(path)
    with container:
        fps = _stream_fps(stream)
        stride = stride or default_stride(fps)
        fallback_rotation = _metadata_rotation(stream)
        time_base = float(stream.time_base) if stream.time_base is not None else 0.0
        start_pts = stream.start_time or 0
        frame_index = -1
        for frame_index, frame in enumerate(_decode(path, container, stream)):
            if frame_index % stride:
                continue
            if frame.pts is not None and time_base:
                timestamp = (frame.pts - start_pts) * time_base
            else:
                timestamp = frame_index / fps if fps else 0.0
            yield frame_index, float(timestamp), frame, _frame_rotation(frame, fallback_rotation)
        if frame_index < 0:
            raise VideoDecodeError(f"{path}: the video stream decodes to zero frames")


def iter_frames(
    path: str | os.PathLike,
    stride: int | None = None,
    max_frames: int | None = None,
) -> Iterator[tuple[int, float, np.ndarray]]:
    """Stream the candidate frames of a clip.

    Args:
        path (`str` or `os.PathLike`): the video file.
        stride (`int`, *optional*): keep every `stride`-th decoded frame; defaults to `default_stride(fps)`.
        max_frames (`int`, *optional*): stop after this many candidate frames.

    Yields:
        `(frame_index, timestamp, rgb)`: index of the frame among all decoded frames, its presentation
        time in seconds from the start of the stream, and the `(H, W, 3)` uint8 RGB image (rotated for display).

    Raises:
        `VideoDecodeError`: the file is not a decodable video or yields no frame at all.
    """
    for count, (frame_index, timestamp, frame, rotation) in enumerate(_iter_decoded(path, stride), start=1):
        yield frame_index, timestamp, _to_rgb(frame, rotation)
        if max_frames is not None and count >= max_frames:
            return


_DONE = object()


def prefetch(iterable: Iterable, depth: int = 4) -> Iterator:
    """Run `iterable` in a background thread, at most `depth` items ahead of the consumer.

    Decoding (FFmpeg) and pose models (LiteRT, ONNX Runtime, torch) release the GIL, so the next candidate frames
    are decoded while the current one is analysed. Memory stays bounded by `depth` items; an exception in the
    producer is re-raised in the consumer, and closing the returned generator stops the producer.
    """
    if depth < 1:
        raise ValueError(f"`depth` must be >= 1, got {depth}")
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            items.put((_DONE, error))
            return
        finally:
            close = getattr(iterable, "close", None)
            if stop.is_set() and close is not None:
                close()
        items.put((_DONE, None))

    thread = threading.Thread(target=produce, name="macm-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                items.get(timeout=0.05)
        thread.join()


def read_frames(path: str | os.PathLike, indices: Iterable[int]) -> list[np.ndarray]:
    """Fetch frames by decoded-frame index in one streaming pass, stopping after the last one asked for.

    Args:
        path (`str` or `os.PathLike`): the video file.
        indices (iterable of `int`): frame indices as yielded by `iter_frames` (any order, repeats allowed).

    Returns:
        `list[np.ndarray]`: `(H, W, 3)` uint8 RGB frames in the order of `indices`.

    Raises:
        `VideoDecodeError`: the file is not decodable, or an index is past the last decodable frame.
    """
    indices = [int(i) for i in indices]
    if not indices:
        return []
    if min(indices) < 0:
        raise ValueError(f"`indices` must be non-negative, got {min(indices)}")
    wanted = set(indices)
    last = max(wanted)
    found: dict[int, np.ndarray] = {}
    for frame_index, _, frame, rotation in _iter_decoded(path, stride=1):
        if frame_index in wanted:
            found[frame_index] = _to_rgb(frame, rotation)
        if frame_index >= last:
            break
    missing = sorted(wanted - found.keys())
    if missing:
        raise VideoDecodeError(f"{path}: frames {missing[:5]} are past the last decodable frame")
    return [found[i] for i in indices]
