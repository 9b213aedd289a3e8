"""`build_hmi`: source videos -> curated, annotated HMI clips in a Hub dataset folder.

```
sources --scene detection--> 2-10 s segments --cut--> clip --motion pathway--> pose track, keyframes, motion frames
        --filters--> accepted? --annotator (keyframes)--> captions + QA --> clips/, frames/, pose/, metadata.jsonl
```

Work happens in two resumable phases, each unit of work recorded in `curation/state.jsonl` when it finishes
(`CurationState`): every source is segmented (or recorded as failed: unreadable, corrupt), then every segment is
processed into an accepted clip, a rejected one (with the failed filters), an annotation failure (with every attempt)
or a failure (with the error). Nothing a single video or server reply does stops the run. The dataset folder, the
report and the card are then rebuilt from the state alone, so a killed and re-run build, or shards merged with
`merge_outputs`, give the same rows as one uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ..cache import MotionCache
from ..keyframes import DEFAULT_NUM_KEYFRAMES
from ..motion_frames import MotionFrameSettings
from ..pose import PoseBackend, get_pose_backend
from .annotate import Annotator, AnnotatorConfig
from .filters import FilterConfig, apply_filters
from .report import write_report
from .scenes import SegmentConfig, cut_clip, detect_scenes, split_scenes
from .sources import Shard, Source, list_sources
from .state import CurationState, check_settings, lock_output
from .writer import (
    atomic_write_text,
    dataset_card,
    remove_clip_media,
    write_bench_view,
    write_clip_media,
    write_metadata,
)

__all__ = [
    "AnnotatorUnavailableError",
    "BuildConfig",
    "build_hmi",
    "clip_id",
    "finalize_output",
    "run_settings",
]

logger = logging.getLogger(__name__)

CURATION_DIR = "curation"
STATE_FILE = "state.jsonl"
SETTINGS_FILE = "run.json"
WORK_DIR = ".work"
FORMAT_VERSION = 1


class AnnotatorUnavailableError(RuntimeError):
    """The annotator failed to answer for too many clips in a row; the run stops instead of failing every clip."""


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides what a run produces.

    Args:
        segments (`SegmentConfig`): scene detection and clip lengths.
        filters (`FilterConfig`): the motion-quality thresholds.
        pose_backend (`str`, *optional*, defaults to `"blazepose"`): a registered pose backend name.
        num_keyframes (`int`, *optional*, defaults to 16): pose-driven keyframes per clip.
        motion_frames (`MotionFrameSettings`, *optional*): how the written motion frames draw the body (masks by
            default; match the model the data will train).
        annotator (`AnnotatorConfig`, *optional*): the annotation endpoint; `None` curates without annotating.
        max_consecutive_annotator_failures (`int`, *optional*, defaults to 10): stop the run when this many clips in
            a row could not be annotated because the server did not answer (connection errors, timeouts).
    """

    segments: SegmentConfig = field(default_factory=SegmentConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    pose_backend: str = "blazepose"
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES
    motion_frames: MotionFrameSettings = field(default_factory=MotionFrameSettings)
    annotator: AnnotatorConfig | None = None
    max_consecutive_annotator_failures: int = 10

    def __post_init__(self):
        if self.num_keyframes < 1:
            raise ValueError(f"`num_keyframes` must be positive, got {self.num_keyframes}")


def run_settings(config: BuildConfig, shard: Shard | None, backend_name: str) -> dict:
    """The settings that decide a run's output (compared on re-runs and merges; operational knobs left out)."""
    annotator = config.annotator
    prompt = None
    if annotator is not None:
        from .prompts import load_annotation_prompt

        prompt = load_annotation_prompt(annotator.prompt)
    return {
        "format": FORMAT_VERSION,
        "segments": dataclasses.asdict(config.segments),
        "filters": config.filters.to_dict(),
        "pose_backend": backend_name,
        "num_keyframes": config.num_keyframes,
        "motion_frames": config.motion_frames.to_dict(),
        "annotate": annotator is not None,
        "annotator_model": annotator.model if annotator else None,
        "prompt_version": prompt.version if prompt else None,
        "prompt_sha256": prompt.sha256 if prompt else None,
        "max_images": annotator.max_images if annotator else None,
        "shard": str(shard or Shard()),
    }


def clip_id(source_id: str, index: int) -> str:
    """`<readable part of the source id>-<8 hex of its SHA-1>-<segment index>`, safe as a file name."""
    readable = re.sub(r"[^A-Za-z0-9]+", "_", source_id.rsplit(".", 1)[0]).strip("_")[-60:] or "video"
    return f"{readable}-{hashlib.sha1(source_id.encode('utf-8')).hexdigest()[:8]}-{index:03d}"


# ----------------------------------------------------------------------------------------------------------------
# Work done by each process
# ----------------------------------------------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(config: BuildConfig, root: str, backend: PoseBackend | None, cache_root: str | None, cache: bool):
    import cv2

    cv2.setNumThreads(1)
    _WORKER.clear()
    _WORKER.update(
        config=config,
        root=Path(root),
        backend=backend or get_pose_backend(config.pose_backend),
        cache=MotionCache(cache_root) if cache else False,
        annotator=Annotator(config.annotator) if config.annotator is not None else None,
    )


def _segment_source(source: Source) -> dict:
    """Scene detection and segmentation of one source: its state record."""
    config: BuildConfig = _WORKER["config"]
    record = {"kind": "source", "id": source.id, "dataset": source.dataset, "caption": source.caption}
    try:
        from ..video import probe_video

        info = probe_video(source.path)
        scenes, fps = detect_scenes(source.path, config.segments)
    except Exception as error:  # noqa: BLE001 - any unreadable source is recorded and skipped
        logger.warning("source %s failed: %s", source.id, error)
        return {**record, "status": "failed", "error_kind": "decode", "error": f"{type(error).__name__}: {error}"}
    segments = split_scenes(scenes, config.segments)
    kept = [s for s in segments if s.reason is None]
    return {
        **record,
        "status": "ok",
        "duration": round(info.duration, 4),
        "fps": round(fps, 4),
        "width": info.width,
        "height": info.height,
        "scenes": [[round(start, 4), round(end, 4)] for start, end in scenes],
        "segments": [{"id": clip_id(source.id, k), "start": s.start, "end": s.end} for k, s in enumerate(kept)],
        "dropped": [{"start": s.start, "end": s.end, "reason": s.reason} for s in segments if s.reason is not None],
    }


def _row(segment: dict, source: Source, result, media: dict, filter_stats: dict, outcome) -> dict:
    annotation = outcome.annotation if outcome is not None else None
    windows = {"fine": [], "contextual": []}
    if annotation is not None:
        for level, spans in (("fine", outcome.fine_windows), ("contextual", outcome.contextual_windows)):
            texts = getattr(annotation, level)
            windows[level] = [
                {"start": float(start), "end": float(end), "text": text}
                for (start, end), text in zip(spans, texts, strict=True)
            ]
    info = result.video
    return {
        "id": segment["id"],
        "file_name": media["file_name"],
        "video": media["file_name"],
        "caption": annotation.whole if annotation is not None else "",
        "captions": {**windows, "whole": annotation.whole if annotation is not None else ""},
        "qa": [qa.model_dump() for qa in annotation.qa] if annotation is not None else [],
        "keyframe_files": media["keyframe_files"],
        "motion_files": media["motion_files"],
        "keyframe_indices": [int(i) for i in result.keyframe_indices],
        "keyframe_timestamps": [round(float(t), 4) for t in result.keyframe_timestamps],
        "pose_file": media["pose_file"],
        "duration": round(float(info.duration), 4),
        "fps": round(float(info.fps), 4),
        "width": int(info.width),
        "height": int(info.height),
        "num_frames": int(info.num_frames),
        "source": source.dataset,
        "source_video": source.id,
        "source_start": float(segment["start"]),
        "source_end": float(segment["end"]),
        "source_caption": source.caption,
        "filter_stats": filter_stats,
        "pose_backend": result.track.backend,
        "annotation_model": outcome.model if outcome is not None else None,
        "annotation_prompt": outcome.prompt_version if outcome is not None else None,
    }


def _process_clip(job: tuple[Source, dict]) -> dict:
    """Cut, pose, filter, annotate and write one segment: its state record."""
    source, segment = job
    config: BuildConfig = _WORKER["config"]
    root: Path = _WORKER["root"]
    identifier = segment["id"]
    record = {"kind": "clip", "id": identifier, "source": source.id, "start": segment["start"], "end": segment["end"]}
    work = root / WORK_DIR / f"{identifier}.mp4"
    work.parent.mkdir(parents=True, exist_ok=True)
    stage = "decode"
    try:
        from ..pipeline import extract_motion

        cut_clip(source.path, segment["start"], segment["end"], work, crf=config.segments.crf)
        stage = "pose"
        result = extract_motion(
            work,
            backend=_WORKER["backend"],
            num_keyframes=config.num_keyframes,
            cache=_WORKER["cache"],
            progress=False,
            motion_frame_settings=config.motion_frames,
        )
        verdict = apply_filters(result.track, config.filters)
        if not verdict.passed:
            remove_clip_media(root, identifier)
            return {**record, "status": "rejected", "reasons": verdict.reasons, "stats": verdict.stats}
        outcome = None
        if _WORKER["annotator"] is not None:
            stage = "annotation"
            outcome = _WORKER["annotator"].annotate(
                result.keyframes, [float(t) for t in result.keyframe_timestamps], result.video.duration, source.caption
            )
            raw = root / CURATION_DIR / "annotations" / f"{identifier}.json"
            atomic_write_text(raw, json.dumps({"id": identifier, **outcome.to_record()}, ensure_ascii=False) + "\n")
            record["annotation"] = {
                "file": raw.relative_to(root).as_posix(),
                "attempts": [
                    {"attempt": a.attempt, "ok": a.ok, "error_kind": a.error_kind, "status_code": a.status_code}
                    for a in outcome.attempts
                ],
            }
            if not outcome.ok:
                remove_clip_media(root, identifier)
                kind = outcome.attempts[-1].error_kind if outcome.attempts else "none"
                return {
                    **record,
                    "status": "annotation_failed",
                    "error_kind": f"annotation:{kind}",
                    "error": f"annotation failed after {len(outcome.attempts)} attempts: {outcome.error}",
                    "stats": verdict.stats,
                }
        stage = "write"
        media = write_clip_media(root, identifier, work, result)
        row = _row(segment, source, result, media, verdict.stats, outcome)
        return {**record, "status": "accepted", "stats": verdict.stats, "row": row}
    except Exception as error:  # noqa: BLE001 - one bad clip is recorded, the run goes on
        logger.warning("clip %s failed at %s: %s", identifier, stage, error)
        remove_clip_media(root, identifier)
        return {**record, "status": "failed", "error_kind": stage, "error": f"{type(error).__name__}: {error}"}
    finally:
        work.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------------------------


def _run(function: Callable, jobs: list, workers: int, initargs: tuple) -> Iterator[dict]:
    """Results of `function` over `jobs`, in this process or a pool of `workers` (completion order)."""
    if not jobs:
        return
    if workers == 1:
        yield from map(function, jobs)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with context.Pool(min(workers, len(jobs)), initializer=_init_worker, initargs=initargs) as pool:
        yield from pool.imap_unordered(function, jobs)


def _pending(state: CurationState, kind: str, ids: Iterable[str], retry_failed: bool) -> set[str]:
    retry = {"failed", "annotation_failed"} if retry_failed else set()
    return {i for i in ids if (record := state.get(kind, i)) is None or record["status"] in retry}


def finalize_output(root: str | os.PathLike) -> dict:
    """Rebuild `metadata.jsonl`, the report and the card of an output folder from its state; returns the report."""
    root = Path(root)
    curation = root / CURATION_DIR
    state = CurationState(curation / STATE_FILE)
    settings = json.loads((curation / SETTINGS_FILE).read_text(encoding="utf-8"))
    sources, clips = state.of_kind("source"), state.of_kind("clip")
    rows = [record["row"] for record in clips if record["status"] == "accepted"]
    if not rows:
        logger.warning("%s: no clip was accepted; metadata.jsonl is empty (see curation/rejects.jsonl)", root)
    write_metadata(root, rows)
    write_bench_view(root, rows)
    report = write_report(curation, sources, clips)
    atomic_write_text(root / "README.md", dataset_card(report, settings))
    shutil.rmtree(root / WORK_DIR, ignore_errors=True)
    return report


def build_hmi(
    videos: str | os.PathLike | list[Source],
    out_dir: str | os.PathLike,
    config: BuildConfig | None = None,
    shard: Shard | None = None,
    workers: int = 1,
    backend: PoseBackend | None = None,
    cache_dir: str | os.PathLike | None = None,
    cache: bool = True,
    retry_failed: bool = False,
    progress: bool = True,
) -> dict:
    """Curate (and annotate) source videos into an HMI dataset folder; resumable, see the module docstring.

    Args:
        videos (`str`, `os.PathLike` or `list[Source]`): a folder of videos, a list file (see `list_sources`), or
            the sources themselves.
        out_dir (`str` or `os.PathLike`): the dataset folder; a folder holding an earlier run of the same settings
            is resumed.
        config (`BuildConfig`, *optional*): what to produce; defaults to the paper's filters, BlazePose, no
            annotation.
        shard (`Shard`, *optional*): process only this shard of the sources.
        workers (`int`, *optional*, defaults to 1): processes (each builds its own pose backend and HTTP session).
        backend (`PoseBackend`, *optional*): a ready pose backend to use instead of `config.pose_backend`.
        cache_dir (`str` or `os.PathLike`, *optional*): the motion cache directory (default: `MotionCache()`'s).
        cache (`bool`, *optional*, defaults to `True`): use the motion cache.
        retry_failed (`bool`, *optional*, defaults to `False`): process again the sources and clips that failed or
            could not be annotated in an earlier run.
        progress (`bool`, *optional*, defaults to `True`): show progress bars.

    Returns:
        `dict`: the curation report (`curation/report.json`).

    Raises:
        `SettingsMismatchError`: `out_dir` holds a run with other settings.
        `OutputLockedError`: another build is writing `out_dir`.
        `AnnotatorUnavailableError`: the annotator stopped answering (the work done so far is kept).
    """
    config = config or BuildConfig()
    if workers < 1:
        raise ValueError(f"`workers` must be at least 1, got {workers}")
    shard = shard or Shard()
    sources = videos if isinstance(videos, list) else list_sources(videos)
    mine = [source for source in sources if shard.holds(source.id)]
    root = Path(out_dir)
    curation = root / CURATION_DIR
    lock = lock_output(curation / ".lock")
    try:
        check_settings(
            curation / SETTINGS_FILE, run_settings(config, shard, backend.name if backend else config.pose_backend)
        )
        shutil.rmtree(root / WORK_DIR, ignore_errors=True)
        state = CurationState(curation / STATE_FILE)
        logger.info("%d of %d sources in shard %s; %s", len(mine), len(sources), shard, root)
        cache_root = str(cache_dir) if cache_dir is not None else None
        initargs = (config, str(root), backend, cache_root, cache)
        if workers == 1:
            _init_worker(*initargs)
        elif backend is None:
            get_pose_backend(config.pose_backend)  # fail here, not in every pool process, when it cannot be built

        todo = _pending(state, "source", [s.id for s in mine], retry_failed)
        jobs = [source for source in mine if source.id in todo]
        for record in tqdm(
            _run(_segment_source, jobs, workers, initargs),
            total=len(jobs),
            desc="scenes",
            unit="video",
            disable=not progress,
        ):
            state.append(record)

        by_id = {source.id: source for source in mine}
        segments = [
            (by_id[record["id"]], segment)
            for record in state.of_kind("source")
            if record["status"] == "ok" and record["id"] in by_id
            for segment in record["segments"]
        ]
        todo = _pending(state, "clip", [segment["id"] for _, segment in segments], retry_failed)
        jobs = [job for job in segments if job[1]["id"] in todo]
        unanswered = 0
        for record in tqdm(
            _run(_process_clip, jobs, workers, initargs),
            total=len(jobs),
            desc="clips",
            unit="clip",
            disable=not progress,
        ):
            state.append(record)
            if record.get("error_kind") in ("annotation:connection", "annotation:timeout"):
                unanswered += 1
                if unanswered >= config.max_consecutive_annotator_failures:
                    raise AnnotatorUnavailableError(
                        f"the annotator at {config.annotator.url} did not answer for {unanswered} clips in a row; "
                        "the work so far is saved: re-run the same command with --retry-failed once it is back"
                    )
            elif record["status"] == "accepted":
                unanswered = 0
        return finalize_output(root)
    finally:
        _WORKER.clear()
        lock.close()
