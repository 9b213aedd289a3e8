"""One Space request, start to end: validate -> motion pathway -> captions with and without MSD (streamed) ->
plots and JSON.

`analyze` is a generator of `Update`s with no Gradio in it, so it is tested directly. The only GPU work,
`caption_stream`, is the one `@spaces.GPU` function (a no-op off ZeroGPU; `spaces` is optional).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES

if __package__:
    from . import checkpoint, plots
    from .validation import Issue, Limits, MsdSettings, Request, parse_alpha, validate_request
else:  # run as the Space's files: siblings are top-level modules
    import checkpoint
    import plots
    from validation import Issue, Limits, MsdSettings, Request, parse_alpha, validate_request

try:  # ZeroGPU's decorator; absent or a no-op everywhere else
    import spaces
except ImportError:  # pragma: no cover - depends on the environment
    spaces = None

__all__ = [
    "CHANGED_LABEL",
    "Options",
    "RequestError",
    "Update",
    "analyze",
    "caption_stream",
    "new_workdir",
    "release_memory",
]

logger = logging.getLogger(__name__)

WORK_DIR = Path(os.environ.get("MACM_SPACE_TMP", Path(tempfile.gettempdir()) / "macm-space"))
STALE_SECONDS = 3600
CHANGED_LABEL = "changed by MSD"
DISPLAY_SIDE = 384  # overlays of smaller clips (SynthMotion's are 96 px) are enlarged to this for the page


def gpu(function: Callable) -> Callable:
    """`spaces.GPU` when the `spaces` package is installed (a no-op off ZeroGPU), else the function itself."""
    return spaces.GPU(duration=120)(function) if spaces is not None else function


################
# Captioning (the GPU part)
################
@dataclass(frozen=True)
class MsdOptions:
    """Parsed MSD parameters, as `generate` takes them."""

    alpha: tuple[float, ...]
    beta: float
    theta: float
    synergy: str

    def generate_kwargs(self) -> dict:
        return {
            "msd_alpha": list(self.alpha),
            "msd_beta": self.beta,
            "msd_theta": self.theta,
            "msd_synergy": self.synergy,
        }


def _stream_one(loaded, motion, question: str, msd: MsdOptions | None, max_new_tokens: int):
    """Yield the caption's text as it grows, then the `CaptionResult` (generation runs in a thread)."""
    from transformers import TextIteratorStreamer

    from macm.processing.caption import caption_motion

    streamer = TextIteratorStreamer(
        loaded.processor.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
    )
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = caption_motion(
                loaded.model,
                loaded.processor,
                motion,
                question=question,
                msd=msd is not None,
                max_new_tokens=max_new_tokens,
                streamer=streamer,
                **(msd.generate_kwargs() if msd is not None else {}),
            )
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
            streamer.end()

    thread = threading.Thread(target=work, name="macm-caption", daemon=True)
    thread.start()
    text = ""
    for piece in streamer:
        if piece:
            text += piece
            yield text.strip()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    yield outcome["result"]


@gpu
def caption_stream(motion, question: str, msd: MsdOptions | None, max_new_tokens: int) -> Iterator[tuple[str, Any]]:
    """Caption a clip with MSD (when `msd` is given), then without, streaming.

    Yields:
        `(which, value)`: `which` is `"with_msd"` or `"without_msd"`; `value` is the text so far while generating,
        then the final `CaptionResult`.
    """
    loaded = checkpoint.current_model()
    if msd is not None:
        for value in _stream_one(loaded, motion, question, msd, max_new_tokens):
            yield "with_msd", value
    for value in _stream_one(loaded, motion, question, None, max_new_tokens):
        yield "without_msd", value


################
# The request
################
@dataclass(frozen=True)
class Options:
    """Everything the page sends besides the video."""

    prompt: str = ""
    backend: str = "blazepose"
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES
    max_new_tokens: int = 64
    msd: MsdSettings = field(default_factory=MsdSettings)


@dataclass
class Update:
    """What changes on the page; `None` fields are left as they are."""

    status: str | None = None
    overlay: str | None = None
    gallery: list | None = None
    caption_msd: list | None = None
    caption_plain: list | None = None
    synergy: Any = None
    timeline: Any = None
    json_path: str | None = None
    issues: list[Issue] = field(default_factory=list)
    done: bool = False


class RequestError(ValueError):
    """The request cannot run; the message is for the user."""


def highlighted(tokens: list[str], changed: list[bool] | None) -> list[tuple[str, str | None]]:
    """`gr.HighlightedText` value: the tokens MSD changed labelled, neighbours of the same kind merged."""
    spans: list[tuple[str, str | None]] = []
    for token, flag in zip(tokens, changed or [False] * len(tokens), strict=True):
        label = CHANGED_LABEL if flag else None
        if spans and spans[-1][1] == label:
            spans[-1] = (spans[-1][0] + token, label)
        else:
            spans.append((token, label))
    return spans


def probe_request(video_path: str | None, options: Options, backends: tuple[str, ...]) -> Request:
    """Read what validation needs from the upload: size, duration, frames, frame size, or why it is not a video."""
    from macm.processing.video import VideoDecodeError, probe_video

    request = Request(
        video_path=video_path,
        prompt=options.prompt,
        backend=options.backend,
        backends=backends,
        num_keyframes=options.num_keyframes,
        max_new_tokens=options.max_new_tokens,
        msd=options.msd,
    )
    if not video_path:
        return request
    try:
        size = os.path.getsize(video_path)
    except OSError as exc:
        return replace(request, decode_error=f"cannot read the upload ({exc.strerror})")
    try:
        info = probe_video(video_path)
    except VideoDecodeError as exc:
        return replace(request, file_bytes=size, decode_error=str(exc).split(": ", 1)[-1])
    return replace(
        request,
        file_bytes=size,
        duration=info.duration,
        num_frames=info.num_frames,
        width=info.width,
        height=info.height,
    )


def enlarge_video(path: Path, min_side: int = DISPLAY_SIDE) -> Path:
    """Re-encode a small video so its shorter side is at least `min_side` pixels (nearest neighbour: no blur)."""
    import av
    import cv2

    from macm.processing.render import OverlayVideoWriter

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        shorter = min(stream.codec_context.width, stream.codec_context.height)
        if not shorter or shorter >= min_side:
            return path
        scale = -(-min_side // shorter)  # a whole factor keeps the pixels crisp
        enlarged = path.with_name(f"{path.stem}_x{scale}{path.suffix}")
        with OverlayVideoWriter(enlarged, fps=float(stream.average_rate or 8)) as writer:
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="rgb24")
                writer.write(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))
    return enlarged


def ensure_pose_models() -> None:
    """Fetch BlazePose's model files when they are missing: a Space has no bootstrap step, so its first start does it
    (idempotent; `python -m macm.processing.pose.model_files` does the same locally). A failure is logged, and each
    request then says that the pose backend is unavailable."""
    from macm.processing.pose.model_files import download_blazepose_models

    try:
        download_blazepose_models()
    except Exception as exc:  # no network, no pip: requests explain it
        logger.warning("BlazePose model files unavailable: %s: %s", type(exc).__name__, exc)


def cleanup_stale(root: Path = WORK_DIR, max_age: float = STALE_SECONDS) -> None:
    """Remove request folders left behind (a crash, a killed worker) older than `max_age` seconds."""
    if not root.is_dir():
        return
    now = time.time()
    for folder in root.glob("request-*"):
        try:
            if now - folder.stat().st_mtime > max_age:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def release_memory() -> None:
    """Give freed memory back to the system after a request.

    Gradio runs requests on a pool of worker threads, and glibc keeps one malloc arena per thread: without a trim,
    the freed buffers of decoding, pose and generation stay in the process (measured: RSS creeping up by ~250 MiB
    over 18 requests, `benchmarks/space_load.py`). `malloc_trim` returns them; elsewhere it is skipped.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def new_workdir() -> Path:
    """A private folder for one request's files (removed by the caller when the request ends)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="request-", dir=WORK_DIR))


def _no_progress(fraction: float, desc: str) -> None:
    return None


def _check(video_path: str | None, options: Options, limits: Limits, backends: tuple[str, ...]) -> list[Issue]:
    """Validate; raise `RequestError` with every error, return the warnings."""
    issues = validate_request(probe_request(video_path, options, backends), limits)
    errors = [issue.message for issue in issues if issue.level == "error"]
    if errors:
        raise RequestError(" ".join(errors))
    return [issue for issue in issues if issue.level == "warning"]


def analyze(
    video_path: str | None,
    options: Options,
    limits: Limits,
    workdir: str | os.PathLike,
    backends: tuple[str, ...],
    progress: Callable[[float, str], None] = _no_progress,
) -> Iterator[Update]:
    """One request: validate, motion pathway, captions (streamed), plots, JSON.

    Files are written under `workdir` (the caller removes it). Errors the user can fix raise `RequestError`;
    warnings travel in `Update.issues` and the status line.
    """
    from macm.processing.caption import DEFAULT_QUESTION
    from macm.processing.motion_frames import MotionFrameSettings
    from macm.processing.pipeline import extract_motion
    from macm.processing.pose import PoseBackendUnavailableError
    from macm.processing.video import VideoDecodeError

    workdir = Path(workdir)
    loaded = checkpoint.current_model()
    progress(0.0, "checking the video")
    warnings = _check(video_path, options, limits, backends)
    question = options.prompt.strip() or DEFAULT_QUESTION
    msd = None
    if options.msd.enabled:
        msd = MsdOptions(
            parse_alpha(options.msd.alpha), float(options.msd.beta), float(options.msd.theta), options.msd.synergy
        )
    yield Update(
        status=f"Running the motion pathway ({options.backend} pose, keyframes, body drawing)...", issues=warnings
    )

    progress(0.1, f"pose ({options.backend}) and keyframes")
    overlay = workdir / "overlay.mp4"
    try:
        motion = extract_motion(
            video_path,
            backend=options.backend,
            num_keyframes=options.num_keyframes,
            overlay_path=overlay,
            cache=False,
            progress=False,
            # drawn as the checkpoint was trained (masks or overlays); masks when no model is loaded
            motion_frame_settings=MotionFrameSettings.from_config(loaded.model.config) if loaded.ready else None,
        )
    except VideoDecodeError as exc:
        raise RequestError(f"This file could not be read as a video: {exc}") from None
    except PoseBackendUnavailableError as exc:
        raise RequestError(f"Pose backend {options.backend!r} is not available here: {exc}") from None
    progress(0.4, "keyframes and motion frames")
    summary = motion.summary
    notices: list[Issue] = []
    if not motion.has_person:
        notices.append(
            Issue(
                "warning",
                "video",
                "No person was found in the clip: keyframes were sampled uniformly and the motion frames show no "
                "body, so the caption rests on the pixels alone.",
            )
        )
    motion_line = (
        f"Motion pathway: {len(motion.keyframes)} keyframes; person found in {100 * summary['person_fraction']:.0f}% "
        f"of {summary['num_candidate_frames']} frames ({sum(motion.timings.values()):.1f} s; stages in the JSON)."
    )
    notice_text = "".join(f"\n\n**Note:** {issue.message}" for issue in notices)
    skip_reason = None if loaded.ready else "No captioning model is loaded (see the model line above)."
    yield Update(
        status=motion_line + notice_text + (f"\n\n**{skip_reason}**" if skip_reason else "\n\nCaptioning..."),
        overlay=str(enlarge_video(overlay)),
        gallery=plots.keyframe_pairs(motion.keyframes, motion.motion_frames, motion.keyframe_timestamps),
        timeline=plots.motion_timeline(motion.track, motion.keyframe_timestamps),
        issues=notices,
    )

    captions: dict[str, Any] = {}
    if skip_reason is None:
        progress(0.5, "captioning with MSD" if msd else "captioning")
        for which, value in caption_stream(motion, question, msd, options.max_new_tokens):
            target = "caption_msd" if which == "with_msd" else "caption_plain"
            if isinstance(value, str):
                yield Update(**{target: [(value, None)]})
                continue
            captions[which] = value
            if which == "with_msd":
                progress(0.75, "captioning without MSD")
                yield Update(
                    caption_msd=highlighted(value.tokens, value.changed),
                    synergy=plots.synergy_strip(value.tokens, value.step_synergy or [], value.changed or []),
                )
            else:
                yield Update(caption_plain=[(value.caption, None)])
        if msd is None:
            yield Update(caption_msd=[("MSD is off: only the caption without MSD is made.", None)])

    progress(0.95, "writing the JSON")
    record = {
        "model": loaded.source,
        "embedded_model": loaded.embedded,
        "question": question,
        "options": {
            "backend": options.backend,
            "num_keyframes": options.num_keyframes,
            "max_new_tokens": options.max_new_tokens,
            "msd": msd.generate_kwargs() if msd else None,
        },
        "video": motion.video.to_dict() | {"path": os.path.basename(str(video_path))},
        "keyframe_indices": [int(i) for i in motion.keyframe_indices],
        "keyframe_timestamps": [round(float(t), 4) for t in motion.keyframe_timestamps],
        "summary": summary,
        "timings": {name: round(seconds, 4) for name, seconds in motion.timings.items()},
        "captions": {which: result.to_dict() for which, result in captions.items()},
        "notices": [issue.message for issue in [*warnings, *notices]],
        "skipped": skip_reason,
    }
    json_path = workdir / "macm_result.json"
    json_path.write_text(json.dumps(record, indent=2, default=str))
    if skip_reason:
        done_line = f"Done, without a caption. **{skip_reason}**"
    else:
        seconds = sum(result.seconds for result in captions.values())
        done_line = f"Done: captioned by `{loaded.name}` in {seconds:.1f} s."
    progress(1.0, "done")
    yield Update(status=f"{motion_line}{notice_text}\n\n{done_line}", json_path=str(json_path), done=True)
