"""From a video file to keyframes and motion frames: the motion pathway of one clip.

```
video --decode (streaming)--> candidate frames --pose backend--> PoseTrack --sampler--> keyframe indices
      --kept frames--> keyframe RGB --body recovery + renderer--> motion frames (--> overlay video)
```

Frames are decoded once: the pose pass keeps the candidate frames while they fit in
`MAX_KEPT_FRAME_BYTES` (a 10 s 720p clip does), and the keyframes and the overlay video are taken
from them; a longer clip is decoded again for them instead. The overlay video, which is for people
and not for the model, is written last, after the motion frames. Pose tracks and keyframe choices
are cached per (video content, settings), see `macm.processing.cache`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .cache import MotionCache, cache_key, file_sha256
from .keyframes import DEFAULT_MIN_SCORE, DEFAULT_NUM_KEYFRAMES, sample_keyframes
from .motion_frames import MotionFrameSettings, render_motion_frames
from .pose import COCO17_NAMES, PoseBackend, PoseTrack, get_pose_backend
from .pose.people import DEFAULT_MIN_HEIGHT
from .render import DEFAULT_ALPHA, OverlayVideoWriter, draw_capsules
from .video import VideoInfo, default_stride, iter_frames, prefetch, probe_video, read_frames

__all__ = [
    "BodyRecoveryError",
    "MotionResult",
    "extract_motion",
    "motion_cache_key",
    "plan_candidates",
    "summarize_track",
]

logger = logging.getLogger(__name__)

# Visibility thresholds of the per-clip summary (the HMI curation filters read them).
VISIBLE_SCORE = 0.5
MIN_BODY_KEYPOINTS = 12
MIN_FACE_KEYPOINTS = 2
_FACE = COCO17_NAMES[:5]
_BODY = COCO17_NAMES[5:]


@dataclass
class MotionResult:
    """Everything the motion pathway produced for one clip.

    Args:
        video (`VideoInfo`): the clip.
        track (`PoseTrack`): main person per candidate frame (the backend's keypoint layout).
        stride (`int`): candidate frames are every `stride`-th decoded frame.
        keyframe_track_indices (`np.ndarray` of shape `(N,)`): keyframes as indices into `track`.
        keyframe_indices (`np.ndarray` of shape `(N,)`): keyframes as decoded-frame indices of the video.
        keyframe_timestamps (`np.ndarray` of shape `(N,)`): their presentation times in seconds.
        keyframes (`list[np.ndarray]`): `N` RGB keyframes, `(H, W, 3)` uint8.
        motion_frames (`list[np.ndarray]`): `N` RGB motion frames in the `motion_frame_settings` style (masks or
            overlays, see `macm.processing.motion_frames`), uint8.
        summary (`dict`): per-clip statistics, see `summarize_track`.
        render_style (`str`): how the body was drawn, `"capsules"` or `"mesh"`.
        motion_frame_settings (`MotionFrameSettings`): the motion frames' style, opacity and size.
        body (`Any`, *optional*): the SMPL fit of the keyframes when an SMPL model was given.
        from_cache (`bool`): the pose track came from the cache.
        timings (`dict[str, float]`): seconds spent per stage.
    """

    video: VideoInfo
    track: PoseTrack
    stride: int
    keyframe_track_indices: np.ndarray
    keyframe_indices: np.ndarray
    keyframe_timestamps: np.ndarray
    keyframes: list[np.ndarray]
    motion_frames: list[np.ndarray]
    summary: dict
    render_style: str = "capsules"
    motion_frame_settings: MotionFrameSettings = field(default_factory=MotionFrameSettings)
    body: Any = None
    from_cache: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_person(self) -> bool:
        return not self.summary.get("no_person", False)

    @property
    def keyframe_keypoints(self) -> np.ndarray:
        """`(N, 17, 3)` COCO-17 keypoints of the keyframes in pixels (score 0 where nobody was found): the
        `motion_joints` of a model whose motion pathway reads joints."""
        return _keyframe_keypoints(self.track, self.keyframe_track_indices)


def _coco_view(track: PoseTrack) -> PoseTrack | None:
    try:
        return track.to_coco17()
    except ValueError:
        return None


def _keyframe_keypoints(track: PoseTrack, rows: np.ndarray) -> np.ndarray:
    coco = _coco_view(track)
    if coco is None:
        raise ValueError(f"the {track.backend!r} pose track has no COCO-17 view: no joints for the motion encoder")
    keypoints = coco.keypoints[rows].astype(np.float64)
    keypoints[~track.has_person[rows]] = 0.0
    return keypoints


def _min_person_height(track: PoseTrack) -> float | None:
    """The relative height from which `track.person_counts` counts people (`None` for tracks without heights)."""
    return None if track.person_heights is None else float(track.extras.get("min_person_height", DEFAULT_MIN_HEIGHT))


def summarize_track(track: PoseTrack, video: VideoInfo, stride: int) -> dict:
    """Per-clip statistics of a pose track, used for reporting and for filtering clips.

    Returns:
        `dict` with `backend`, `duration`, `fps`, `stride`, `num_candidate_frames`, `person_counts` (per
        candidate frame, counting people at least `other_person_min_height` of the main person's height),
        `person_fraction` (frames with a main person), `single_person_fraction` (frames
        with exactly one person), `body_visible_fraction` (frames with >= 12 COCO body keypoints scored
        > 0.5), `face_visible_fraction` (>= 2 COCO face points scored > 0.5), `fully_visible_fraction`
        (both), `bbox_area_fraction` (mean main-person box area over frame area, frames with a person),
        `no_person` and `flags` (short strings naming problems).
    """
    counts = np.asarray(track.person_counts, dtype=np.int64)
    num = max(1, track.num_frames)
    has_person = track.has_person
    coco = _coco_view(track)
    if coco is not None:
        scores = coco.keypoints[..., 2]
        body = (scores[:, 5:] > VISIBLE_SCORE).sum(axis=1) >= MIN_BODY_KEYPOINTS
        face = (scores[:, :5] > VISIBLE_SCORE).sum(axis=1) >= MIN_FACE_KEYPOINTS
    else:
        body = face = np.zeros(track.num_frames, dtype=bool)
    height, width = track.image_size
    boxes = track.bboxes[has_person]
    areas = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0) / max(1, height * width)
    areas = areas[np.isfinite(areas)]

    summary = {
        "backend": track.backend,
        "duration": round(float(video.duration), 4),
        "fps": round(float(video.fps), 4),
        "width": video.width,
        "height": video.height,
        "stride": int(stride),
        "num_candidate_frames": track.num_frames,
        "person_counts": counts.tolist(),
        "other_person_min_height": _min_person_height(track),
        "person_fraction": float(has_person.sum() / num),
        "single_person_fraction": float((counts == 1).sum() / num),
        "body_visible_fraction": float(body.sum() / num),
        "face_visible_fraction": float(face.sum() / num),
        "fully_visible_fraction": float((body & face).sum() / num),
        "bbox_area_fraction": float(areas.mean()) if len(areas) else 0.0,
        "no_person": not bool(has_person.any()),
    }
    flags = []
    if summary["no_person"]:
        flags.append("no_person")
    elif summary["person_fraction"] < 0.5:
        flags.append("person_mostly_absent")
    if (counts > 1).mean() > 0.2:
        flags.append("multiple_people")
    if coco is None:
        flags.append("no_coco17_layout")
    summary["flags"] = flags
    return summary


def _resolve_backend(backend: str | PoseBackend, backend_kwargs: dict | None) -> PoseBackend:
    if isinstance(backend, PoseBackend):
        return backend
    return get_pose_backend(backend, **(backend_kwargs or {}))


# Candidate frames kept in memory during the pose pass, so keyframes and the overlay need no second decode: a 10 s
# 1280x720 clip at 10 candidate frames per second is 276 MB. A longer clip is decoded again instead.
MAX_KEPT_FRAME_BYTES = 512 * 2**20


class _KeptFrames:
    """Passes `(frame_index, timestamp, rgb)` through and keeps the RGB frames while they fit in `max_bytes`."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.frames: dict[int, np.ndarray] | None = {}
        self._bytes = 0

    def keep(self, frames):
        for item in frames:
            if self.frames is not None:
                self._bytes += item[2].nbytes
                if self._bytes <= self.max_bytes:
                    self.frames[item[0]] = item[2]
                else:
                    logger.info("Candidate frames exceed %d MiB: keyframes are decoded again", self.max_bytes >> 20)
                    self.frames = None
            yield item


def _run_pose(
    video_path: Path, info: VideoInfo, backend: PoseBackend, stride: int, progress: bool, kept: _KeptFrames
) -> PoseTrack:
    frames = prefetch(kept.keep(iter_frames(video_path, stride=stride)))  # decode ahead while pose runs
    total = math.ceil(info.num_frames / stride) if info.num_frames else None
    try:
        with tqdm(frames, total=total, desc=f"pose ({backend.name})", unit="frame", disable=not progress) as bar:
            return backend.track(bar, image_size=(info.height, info.width))
    finally:
        frames.close()


def _draw_row(rgb: np.ndarray, track: PoseTrack, row: int, alpha: float) -> np.ndarray:
    if not track.has_person[row]:
        return rgb.copy()
    world = None if track.world_keypoints is None else track.world_keypoints[row]
    return draw_capsules(rgb, track.keypoints[row], track.keypoint_names, alpha=alpha, world_keypoints=world)


def _second_pass(video_path: Path, track: PoseTrack, keyframe_rows: np.ndarray, kept: _KeptFrames) -> list[np.ndarray]:
    """Keyframe RGB images, from the frames kept by the pose pass when it could keep them all."""
    wanted = [int(index) for index in track.frame_indices[keyframe_rows]]
    if kept.frames is not None and all(index in kept.frames for index in wanted):
        return [kept.frames[index] for index in wanted]
    return read_frames(video_path, wanted)


def _write_overlay(
    video_path: Path,
    track: PoseTrack,
    stride: int,
    overlay_path: str | os.PathLike,
    fps: float,
    alpha: float,
    kept: _KeptFrames,
    progress: bool,
) -> None:
    """The skeleton drawn on every candidate frame, as a video for people to look at (the model never reads it)."""
    row_of = {int(index): row for row, index in enumerate(track.frame_indices)}
    if kept.frames is not None and len(kept.frames) == track.num_frames:
        frames = contextlib.nullcontext(((index, 0.0, rgb) for index, rgb in kept.frames.items()))
    else:
        frames = closing(prefetch(iter_frames(video_path, stride=stride)))
    # ultrafast: the overlay is for looking at, and encoding it should not cost more than the pose work it shows.
    with OverlayVideoWriter(overlay_path, fps=fps, preset="ultrafast") as writer, frames as source:
        for frame_index, _, rgb in tqdm(
            source, total=track.num_frames, desc="overlay", unit="frame", disable=not progress
        ):
            row = row_of.get(frame_index)
            if row is not None:
                writer.write(_draw_row(rgb, track, row, alpha))


class BodyRecoveryError(ValueError):
    """The SMPL model cannot be loaded (missing or unreadable files, a refused pickle, missing dependency)."""


def _recover_bodies(
    track: PoseTrack,
    keyframe_rows: np.ndarray,
    smpl_dir: str | os.PathLike,
    allow_pickle: bool,
) -> tuple[list[dict | None], Any]:
    """Fit SMPL to the keyframes that have a person (`macm.processing.body`): one mesh per keyframe (`None` for
    keyframes without a person, e.g. uniformly sampled fill) and the fit."""
    try:
        from .body import fit_smpl_to_track, load_smpl_model

        model = load_smpl_model(smpl_dir, allow_pickle=allow_pickle)
    except (ImportError, OSError, ValueError) as error:
        raise BodyRecoveryError(f"cannot load the SMPL model from {smpl_dir}: {error}") from error
    with_person = [i for i, row in enumerate(keyframe_rows) if track.has_person[row]]
    meshes: list[dict | None] = [None] * len(keyframe_rows)
    if not with_person:
        return meshes, None
    fit = fit_smpl_to_track(model, track, keyframe_rows[with_person])
    for position, i in enumerate(with_person):
        meshes[i] = {**fit.mesh(position), "focal_length": fit.focal_length}
    fit.extras["keyframe_positions"] = with_person
    return meshes, fit


def motion_cache_key(
    video_path: str | os.PathLike,
    backend: str,
    stride: int,
    num_keyframes: int,
    min_score: float = DEFAULT_MIN_SCORE,
    backend_kwargs: dict | None = None,
) -> str:
    """The `MotionCache` key under which `extract_motion` stores a clip's pose track (readers such as the
    evaluation's motion-consistency score look entries up with it)."""
    settings = {
        "backend": backend,
        "backend_kwargs": backend_kwargs or {},
        "stride": stride,
        "num_keyframes": num_keyframes,
        "min_score": min_score,
    }
    return cache_key(file_sha256(video_path), settings)


def plan_candidates(
    num_frames: int, stride: int, num_keyframes: int, path: str | os.PathLike = "", warn_stride: bool = True
) -> tuple[int, int]:
    """Clamp a stride and keyframe count to what a clip of `num_frames` frames can give, warning when anything changes.

    A stride longer than the clip becomes the clip's length (one candidate frame; `warn_stride=False` for a default
    stride the user did not choose); more keyframes than candidate frames become one keyframe per candidate frame.

    Returns:
        `(stride, num_keyframes)`.
    """
    num_frames = max(1, int(num_frames))
    if stride > num_frames:
        logger.log(
            logging.WARNING if warn_stride else logging.DEBUG,
            "%s: stride %d is longer than the clip (%d frames); using stride %d",
            path,
            stride,
            num_frames,
            num_frames,
        )
        stride = num_frames
    candidates = math.ceil(num_frames / stride)
    if num_keyframes > candidates:
        logger.warning(
            "%s: %d keyframes asked but stride %d leaves %d candidate frame%s of %d frames; sampling %d keyframe%s",
            path, num_keyframes, stride, candidates, "" if candidates == 1 else "s", num_frames, candidates,
            "" if candidates == 1 else "s",
        )  # fmt: skip
        num_keyframes = candidates
    return stride, num_keyframes


def extract_motion(
    video_path: str | os.PathLike,
    backend: str | PoseBackend = "blazepose",
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    stride: int | None = None,
    smpl_dir: str | os.PathLike | None = None,
    allow_pickle: bool = False,
    cache: bool | MotionCache = True,
    progress: bool = True,
    overlay_path: str | os.PathLike | None = None,
    alpha: float = DEFAULT_ALPHA,
    min_score: float = DEFAULT_MIN_SCORE,
    backend_kwargs: dict | None = None,
    motion_frame_settings: MotionFrameSettings | None = None,
) -> MotionResult:
    """Run the motion pathway on one clip: pose, pose-driven keyframes, body recovery, motion frames.

    Args:
        video_path (`str` or `os.PathLike`): the clip.
        backend (`str` or `PoseBackend`, *optional*, defaults to `"blazepose"`): a registered backend name
            (see `macm.processing.pose.POSE_BACKENDS`) or a ready backend instance.
        num_keyframes (`int`, *optional*, defaults to 16): keyframes to sample; clamped, with a warning, to the
            number of candidate frames.
        stride (`int`, *optional*): candidate-frame stride; defaults to keeping candidates at or below ~10 fps. A
            stride longer than the clip is clamped to its length (see `plan_candidates`).
        smpl_dir (`str` or `os.PathLike`, *optional*): an SMPL model directory; without it the body is drawn
            as part-coloured limb capsules.
        allow_pickle (`bool`, *optional*, defaults to `False`): allow loading a pickled (`.pkl`) SMPL model.
        cache (`bool` or `MotionCache`, *optional*, defaults to `True`): reuse / store the pose track and
            keyframe choice (`True` uses the default cache directory). Entries are keyed by the video's bytes,
            the backend's name, `backend_kwargs`, `stride`, `num_keyframes` and `min_score`; a backend passed as
            an instance is identified by its `name` only.
        progress (`bool`, *optional*, defaults to `True`): show progress bars.
        overlay_path (`str` or `os.PathLike`, *optional*): also write the skeleton drawn on every candidate
            frame to this video file.
        alpha (`float`, *optional*, defaults to 0.6): opacity of the skeleton in the overlay video.
        min_score (`float`, *optional*, defaults to 0.3): keypoint score below which joints are ignored.
        backend_kwargs (`dict`, *optional*): passed to the backend constructor when `backend` is a name.
        motion_frame_settings (`MotionFrameSettings`, *optional*): the motion frames' style; pass
            `MotionFrameSettings.from_config(model.config)` to draw them as a checkpoint was trained. Defaults to
            masks.

    Returns:
        `MotionResult`. A clip where nobody is found is not an error: its summary has `no_person=True`,
        keyframes are sampled uniformly and the motion frames are the plain keyframes.

    Raises:
        `VideoDecodeError`: the file is not a decodable video.
        `PoseBackendUnavailableError`: the backend cannot be built here.
        `BodyRecoveryError`: `smpl_dir` is given but the SMPL model cannot be loaded from it.
    """
    if stride is not None and (isinstance(stride, bool) or not isinstance(stride, int) or stride < 1):
        raise ValueError(f"`stride` must be a positive integer, got {stride!r}")
    if isinstance(num_keyframes, bool) or not isinstance(num_keyframes, int) or num_keyframes < 1:
        raise ValueError(f"`num_keyframes` must be a positive integer, got {num_keyframes!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1], got {alpha}")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    video_path = Path(video_path)
    info = probe_video(video_path)
    stride, num_keyframes = plan_candidates(
        info.num_frames, stride or default_stride(info.fps), num_keyframes, video_path
    )
    backend_name = backend.name if isinstance(backend, PoseBackend) else str(backend)

    store = cache if isinstance(cache, MotionCache) else (MotionCache() if cache else None)
    key = None
    cached = None
    if store is not None:
        key = motion_cache_key(video_path, backend_name, stride, num_keyframes, min_score, backend_kwargs)
        cached = store.load(key)
    timings["probe"] = time.perf_counter() - start

    start = time.perf_counter()
    kept = _KeptFrames(MAX_KEPT_FRAME_BYTES if cached is None else 0)
    if cached is not None:
        track, saved = cached
        keyframe_rows = np.asarray(saved["track_indices"], dtype=np.int64)
        logger.info("Pose track of %s loaded from cache", video_path)
    else:
        track = _run_pose(video_path, info, _resolve_backend(backend, backend_kwargs), stride, progress, kept)
        timings["pose"] = time.perf_counter() - start
        start = time.perf_counter()
        coco = _coco_view(track)
        keyframe_rows = sample_keyframes(coco if coco is not None else track, num_keyframes, min_score)
        timings["keyframes"] = time.perf_counter() - start
    if store is not None and cached is None:
        store.save(
            key,
            track,
            {
                "track_indices": keyframe_rows.tolist(),
                "indices": track.frame_indices[keyframe_rows].tolist(),
                "timestamps": track.timestamps[keyframe_rows].tolist(),
            },
        )

    start = time.perf_counter()
    keyframes = _second_pass(video_path, track, keyframe_rows, kept)
    timings["keyframe_decode"] = time.perf_counter() - start

    summary = summarize_track(track, info, stride)
    if summary["no_person"]:
        logger.warning("%s: no person found in any of %d candidate frames", video_path, track.num_frames)

    start = time.perf_counter()
    body = meshes = None
    style = "capsules"
    if smpl_dir is not None and not summary["no_person"]:
        meshes, body = _recover_bodies(track, keyframe_rows, smpl_dir, allow_pickle)
        style = "mesh"
    settings = motion_frame_settings or MotionFrameSettings()
    present = track.has_person[keyframe_rows]
    keypoints = np.where(present[:, None, None], track.keypoints[keyframe_rows], 0.0)
    world = None if track.world_keypoints is None else track.world_keypoints[keyframe_rows]
    motion_frames = render_motion_frames(
        keyframes, keypoints, track.keypoint_names, settings, world, meshes, min_score=min_score
    )
    timings["body_and_render"] = time.perf_counter() - start
    if overlay_path is not None:
        start = time.perf_counter()
        overlay_fps = info.fps / stride if info.fps > 0 else 10.0
        _write_overlay(video_path, track, stride, overlay_path, overlay_fps, alpha, kept, progress)
        timings["overlay"] = time.perf_counter() - start

    return MotionResult(
        video=info,
        track=track,
        stride=stride,
        keyframe_track_indices=keyframe_rows,
        keyframe_indices=track.frame_indices[keyframe_rows],
        keyframe_timestamps=track.timestamps[keyframe_rows],
        keyframes=keyframes,
        motion_frames=motion_frames,
        summary=summary,
        render_style=style,
        motion_frame_settings=settings,
        body=body,
        from_cache=cached is not None,
        timings=timings,
    )
