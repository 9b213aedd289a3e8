"""Scene detection and segmentation of a source video into 2-10 s clips, and cutting a clip out of its source.

Shots are found with PySceneDetect's `ContentDetector` (HSV frame differences, PyAV decoding). Each shot is then cut
into clips the paper's length: a shot shorter than `min_seconds` is dropped, one longer than `max_seconds` is split
into the fewest equal parts that are each at most `max_seconds` long (with `max_seconds >= 2 * min_seconds` every
part is at least `min_seconds` long).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SegmentConfig", "Segment", "cut_clip", "detect_scenes", "split_scenes"]


@dataclass(frozen=True)
class SegmentConfig:
    """How source videos become clips.

    Args:
        min_seconds (`float`, *optional*, defaults to 2.0): shortest clip (paper: 2 s).
        max_seconds (`float`, *optional*, defaults to 10.0): longest clip (paper: 10 s).
        scene_threshold (`float`, *optional*, defaults to 27.0): `ContentDetector` threshold (PySceneDetect's default).
        min_scene_seconds (`float`, *optional*, defaults to 0.5): shortest shot PySceneDetect may report.
        crf (`int`, *optional*, defaults to 18): libx264 quality of the written clips.
    """

    min_seconds: float = 2.0
    max_seconds: float = 10.0
    scene_threshold: float = 27.0
    min_scene_seconds: float = 0.5
    crf: int = 18

    def __post_init__(self):
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(
                f"need 0 < min_seconds <= max_seconds, got min_seconds={self.min_seconds}, max_seconds={self.max_seconds}"
            )
        if self.scene_threshold <= 0:
            raise ValueError(f"`scene_threshold` must be positive, got {self.scene_threshold}")


@dataclass(frozen=True)
class Segment:
    """A span of a source video, in seconds from its first frame; `reason` is set when it is dropped."""

    start: float
    end: float
    reason: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


def detect_scenes(path: str | os.PathLike, config: SegmentConfig) -> tuple[list[tuple[float, float]], float]:
    """Shots of a video with PySceneDetect, as `(start, end)` seconds, and the frame rate it read.

    A video without cuts is one shot. Raises `VideoDecodeError` when PySceneDetect cannot open or read it.
    """
    import av
    from scenedetect import ContentDetector, SceneManager, open_video
    from scenedetect.video_stream import VideoOpenFailure

    from ..video import VideoDecodeError

    try:
        # suppress_output: otherwise PySceneDetect hands FFmpeg's log (every encoder's statistics) to stderr.
        video = open_video(str(path), backend="pyav", suppress_output=True)
        fps = float(video.frame_rate)
        manager = SceneManager()
        manager.add_detector(
            ContentDetector(
                threshold=config.scene_threshold, min_scene_len=max(1, round(config.min_scene_seconds * fps))
            )
        )
        manager.detect_scenes(video=video, show_progress=False)
        scenes = manager.get_scene_list(start_in_scene=True)
    except (VideoOpenFailure, av.FFmpegError, OSError, ValueError, RuntimeError) as error:
        raise VideoDecodeError(f"{path}: scene detection failed ({error})") from None
    return [(start.get_seconds(), end.get_seconds()) for start, end in scenes], fps


def split_scenes(scenes: list[tuple[float, float]], config: SegmentConfig) -> list[Segment]:
    """Clips of `min_seconds`-`max_seconds` from shots; dropped spans are returned too, with a `reason`.

    Example:

    ```python
    >>> [(s.start, s.end, s.reason) for s in split_scenes([(0.0, 1.5), (1.5, 13.5)], SegmentConfig())]
    [(0.0, 1.5, 'too_short'), (1.5, 7.5, None), (7.5, 13.5, None)]
    ```
    """
    segments = []
    for start, end in scenes:
        duration = end - start
        if duration + 1e-6 < config.min_seconds:
            segments.append(Segment(round(start, 6), round(end, 6), "too_short"))
            continue
        parts = max(1, math.ceil(duration / config.max_seconds - 1e-9))
        for k in range(parts):
            segments.append(
                Segment(round(start + k * duration / parts, 6), round(start + (k + 1) * duration / parts, 6))
            )
    return segments


def cut_clip(source: str | os.PathLike, start: float, end: float, out_path: str | os.PathLike, crf: int = 18) -> int:
    """Re-encode `[start, end)` seconds of `source` (H.264, the source's frame rate, display rotation applied).

    Seeks to the keyframe before `start` and decodes from there, so long sources are not read from the beginning.

    Returns:
        `int`: the number of frames written.

    Raises:
        `VideoDecodeError`: the source cannot be read or has no frame in the span.
    """
    import av

    from ..render import OverlayVideoWriter
    from ..video import VideoDecodeError, _frame_rotation, _metadata_rotation, _to_rgb

    out_path = Path(out_path)
    try:
        container = av.open(str(source))
    except (av.FFmpegError, OSError) as error:
        raise VideoDecodeError(f"{source}: not a readable video ({error})") from None
    with container:
        if not container.streams.video:
            raise VideoDecodeError(f"{source}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        fallback_rotation = _metadata_rotation(stream)
        time_base = float(stream.time_base)
        origin = stream.start_time or 0
        # Half a frame of slack so a boundary that falls between two timestamps keeps a frame on exactly one side.
        slack = 0.5 / fps
        written = 0
        writer = OverlayVideoWriter(out_path, fps=fps, crf=crf)
        try:
            if start > 1.0:  # a second early: the keyframe found must not lie after the first wanted frame
                container.seek(origin + int((start - 1.0) / time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                t = (frame.pts - origin) * time_base
                if t < start - slack:
                    continue
                if t >= end - slack:
                    break
                writer.write(_to_rgb(frame, _frame_rotation(frame, fallback_rotation)))
                written += 1
        except av.FFmpegError as error:
            if written == 0:
                raise VideoDecodeError(f"{source}: could not decode {start:.2f}-{end:.2f} s ({error})") from None
        finally:
            writer.close()
    if written == 0:
        out_path.unlink(missing_ok=True)
        raise VideoDecodeError(f"{source}: no frame between {start:.2f} s and {end:.2f} s")
    return written
