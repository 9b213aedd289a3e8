"""The Space's limits (from environment variables) and the one pure function that checks a request against them.

`validate_request` reads nothing and touches nothing: the caller probes the upload (`probe_video`) and passes
what it found, so every rule is unit-tested without files, a model or Gradio. The app turns the returned
`Issue`s into `gr.Error` (the first error) and `gr.Warning` (each warning).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from macm.modeling_macm.msd import (
    DEFAULT_MSD_ALPHA,
    DEFAULT_MSD_BETA,
    DEFAULT_MSD_SYNERGY,
    DEFAULT_MSD_THETA,
    MSD_SYNERGIES,
)
from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES

__all__ = ["Issue", "Limits", "MsdSettings", "Request", "alpha_text", "parse_alpha", "validate_request"]


def alpha_text(alpha) -> str:
    """MSD's alpha as the page's text box shows it: `"0.5, 0.2, 0.4, 0.8, 0.3, 2"`."""
    return ", ".join(f"{float(a):g}" for a in alpha)


VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"environment variable {name}={value!r} must be a positive number")
    return number


@dataclass(frozen=True)
class Limits:
    """What one request may ask for. Every field can be set by an environment variable (`from_env`).

    Args:
        max_file_mb (`float`, defaults to 50): upload size (`MACM_SPACE_MAX_FILE_MB`).
        max_seconds (`float`, defaults to 60): clip duration (`MACM_SPACE_MAX_SECONDS`).
        min_frames (`int`, defaults to 4): frames a clip needs to show any motion (`MACM_SPACE_MIN_FRAMES`).
        max_side (`int`, defaults to 1920): longest frame side in pixels (`MACM_SPACE_MAX_SIDE`).
        max_keyframes (`int`, defaults to 32): keyframes per clip (`MACM_SPACE_MAX_KEYFRAMES`).
        max_new_tokens (`int`, defaults to 256): generation budget per caption (`MACM_SPACE_MAX_NEW_TOKENS`).
        max_prompt_chars (`int`, defaults to 500): prompt length (`MACM_SPACE_MAX_PROMPT_CHARS`).
        queue_size (`int`, defaults to 16): requests waiting in the queue (`MACM_SPACE_QUEUE_SIZE`).
        concurrency (`int`, defaults to 1): requests run at once (`MACM_SPACE_CONCURRENCY`).
    """

    max_file_mb: float = 50.0
    max_seconds: float = 60.0
    min_frames: int = 4
    max_side: int = 1920
    max_keyframes: int = 32
    max_new_tokens: int = 256
    max_prompt_chars: int = 500
    queue_size: int = 16
    concurrency: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            max_file_mb=_env_float(env, "MACM_SPACE_MAX_FILE_MB", default.max_file_mb),
            max_seconds=_env_float(env, "MACM_SPACE_MAX_SECONDS", default.max_seconds),
            min_frames=int(_env_float(env, "MACM_SPACE_MIN_FRAMES", default.min_frames)),
            max_side=int(_env_float(env, "MACM_SPACE_MAX_SIDE", default.max_side)),
            max_keyframes=int(_env_float(env, "MACM_SPACE_MAX_KEYFRAMES", default.max_keyframes)),
            max_new_tokens=int(_env_float(env, "MACM_SPACE_MAX_NEW_TOKENS", default.max_new_tokens)),
            max_prompt_chars=int(_env_float(env, "MACM_SPACE_MAX_PROMPT_CHARS", default.max_prompt_chars)),
            queue_size=int(_env_float(env, "MACM_SPACE_QUEUE_SIZE", default.queue_size)),
            concurrency=int(_env_float(env, "MACM_SPACE_CONCURRENCY", default.concurrency)),
        )


@dataclass(frozen=True)
class MsdSettings:
    """MSD's parameters as the page sends them (`alpha` still the text the user typed)."""

    enabled: bool = True
    alpha: str = alpha_text(DEFAULT_MSD_ALPHA)
    beta: float = DEFAULT_MSD_BETA
    theta: float = DEFAULT_MSD_THETA
    synergy: str = DEFAULT_MSD_SYNERGY


@dataclass(frozen=True)
class Request:
    """One request, after the upload was probed.

    Args:
        video_path (`str`, *optional*): the uploaded file; `None` when nothing was given.
        file_bytes (`int`, *optional*): its size.
        duration (`float`, *optional*): seconds, from `probe_video`; `None` when the probe failed.
        num_frames (`int`, *optional*): frames in the clip, from `probe_video`.
        width, height (`int`, *optional*): frame size after rotation.
        decode_error (`str`, *optional*): `VideoDecodeError`'s message when the file is not a decodable video.
        prompt (`str`): the caption instruction or question.
        backend (`str`): the pose backend's name.
        backends (`tuple[str, ...]`): the backends the page offers.
        num_keyframes (`int`): keyframes to sample.
        max_new_tokens (`int`): generation budget.
        msd (`MsdSettings`): MSD switch and parameters.
    """

    video_path: str | None
    file_bytes: int | None = None
    duration: float | None = None
    num_frames: int | None = None
    width: int | None = None
    height: int | None = None
    decode_error: str | None = None
    prompt: str = ""
    backend: str = "blazepose"
    backends: tuple[str, ...] = ("blazepose",)
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES
    max_new_tokens: int = 64
    msd: MsdSettings = field(default_factory=MsdSettings)


@dataclass(frozen=True)
class Issue:
    """A problem with a request: an `"error"` stops it, a `"warning"` is shown and the request goes on."""

    level: Literal["error", "warning"]
    field: str
    message: str


def parse_alpha(text: str) -> tuple[float, ...]:
    """`"0.5, 0.2, 0.4, 0.8, 0.3, 2.0"` -> a tuple of six floats (commas and/or spaces).

    Raises:
        `ValueError`: not six finite numbers.
    """
    parts = [part for part in str(text).replace(",", " ").split() if part]
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise ValueError(f"MSD alpha must be six numbers separated by commas, got {text!r}") from None
    if len(values) != 6 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"MSD alpha must be six finite numbers (a1..a5 and the exponent a6), got {text!r}")
    return values


def validate_request(request: Request, limits: Limits) -> list[Issue]:
    """Check a request against the limits; errors first, then warnings. Pure: no I/O, no Gradio.

    Returns:
        `list[Issue]`: empty when the request is fine.
    """
    errors: list[Issue] = []
    warnings: list[Issue] = []

    def error(name: str, message: str) -> None:
        errors.append(Issue("error", name, message))

    def warn(name: str, message: str) -> None:
        warnings.append(Issue("warning", name, message))

    if not request.video_path:
        error("video", "Upload a video or pick one of the examples first.")
    else:
        if request.file_bytes is not None and request.file_bytes > limits.max_file_mb * 1024 * 1024:
            error(
                "video",
                f"The file is {request.file_bytes / 1024 / 1024:.1f} MB; this Space accepts up to "
                f"{limits.max_file_mb:g} MB.",
            )
        if request.decode_error is not None:
            error("video", f"This file could not be read as a video: {request.decode_error}")
        else:
            if request.duration is not None and request.duration > limits.max_seconds:
                error(
                    "video",
                    f"The clip is {request.duration:.1f} s long; this Space accepts up to {limits.max_seconds:g} s. "
                    "Trim it and try again.",
                )
            if request.num_frames is not None and request.num_frames < limits.min_frames:
                frames = f"{request.num_frames} frame" + ("" if request.num_frames == 1 else "s")
                error(
                    "video",
                    f"The clip has only {frames}; describing a motion needs at least {limits.min_frames} frames.",
                )
            side = max(request.width or 0, request.height or 0)
            if side > limits.max_side:
                error(
                    "video",
                    f"The clip is {request.width}x{request.height}; this Space accepts frames up to "
                    f"{limits.max_side} px on the longest side.",
                )
            elif request.duration is not None and request.duration < 0.5:
                warn(
                    "video", f"The clip is only {request.duration:.2f} s long; the caption will have little to go on."
                )
        if not str(request.video_path).lower().endswith(VIDEO_EXTENSIONS):
            warn("video", f"Unusual file extension for a video: {os.path.basename(str(request.video_path))}")

    if request.backend not in request.backends:
        error("backend", f"Unknown pose backend {request.backend!r}; choose one of {', '.join(request.backends)}.")
    if not isinstance(request.num_keyframes, int) or not 1 <= request.num_keyframes <= limits.max_keyframes:
        error("keyframes", f"Keyframes must be between 1 and {limits.max_keyframes}, got {request.num_keyframes}.")
    if not isinstance(request.max_new_tokens, int) or not 1 <= request.max_new_tokens <= limits.max_new_tokens:
        error(
            "max_new_tokens",
            f"Max new tokens must be between 1 and {limits.max_new_tokens}, got {request.max_new_tokens}.",
        )
    prompt = (request.prompt or "").strip()
    if len(prompt) > limits.max_prompt_chars:
        error("prompt", f"The prompt has {len(prompt)} characters; the limit is {limits.max_prompt_chars}.")
    elif not prompt:
        warn("prompt", "Empty prompt: the default caption instruction is used.")

    msd = request.msd
    if msd.enabled:
        try:
            parse_alpha(msd.alpha)
        except ValueError as exc:
            error("msd_alpha", str(exc))
        if not isinstance(msd.beta, (int, float)) or not math.isfinite(msd.beta) or msd.beta < 0:
            error("msd_beta", f"MSD beta must be a number >= 0, got {msd.beta!r}.")
        if not isinstance(msd.theta, (int, float)) or not math.isfinite(msd.theta) or msd.theta <= 0:
            error("msd_theta", f"MSD theta must be a number > 0, got {msd.theta!r}.")
        if msd.synergy not in MSD_SYNERGIES:
            error("msd_synergy", f"MSD synergy must be one of {', '.join(MSD_SYNERGIES)}, got {msd.synergy!r}.")
    return errors + warnings
