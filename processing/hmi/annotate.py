"""Annotation of a clip through an OpenAI-compatible chat completions endpoint (vLLM, TGI, llama.cpp, OpenAI ...).

One request per clip: the versioned prompt's text, then the pose-driven keyframes as base64 JPEG `image_url` parts,
each preceded by its time. The reply is checked against the annotation schema (`schema.parse_annotation`). Requests
and retries are `macm.processing.chat_client`'s (the client the LLM judge uses too): transport failures (connection,
timeout, HTTP 408/429/5xx), malformed JSON and replies that do not fit the schema are retried with exponential
backoff; every attempt is kept with the raw response body, so a clip that still fails is recorded with everything
the server said rather than dropped.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from ..chat_client import ChatAttempt, ChatClient, ChatError, RetryPolicy, chat_endpoint
from ..keyframes import uniform_indices
from .dimensions import DIMENSIONS
from .prompts import DEFAULT_PROMPT, AnnotationPrompt, load_annotation_prompt
from .schema import (
    CONTEXTUAL_WINDOW,
    FINE_WINDOW,
    Annotation,
    AnnotationFormatError,
    caption_windows,
    parse_annotation,
)

__all__ = ["AnnotationAttempt", "AnnotationOutcome", "Annotator", "AnnotatorConfig", "chat_endpoint"]

RESPONSE_FORMATS = ("none", "json_object", "json_schema")
# One request and what came of it (`error_kind`: http, timeout, connection, malformed_response, malformed_json or
# schema; `None` when it succeeded).
AnnotationAttempt = ChatAttempt


@dataclass(frozen=True)
class AnnotatorConfig:
    """How to reach the annotator and what to ask it.

    Args:
        url (`str`): the server root (`http://host:8000`), its `/v1` base or the full chat completions URL.
        model (`str`): the served model id.
        prompt (`str`, *optional*, defaults to `"annotate_v1"`): a prompt version under `prompts/` or a `.md` path.
        api_key (`str`, *optional*): sent as `Authorization: Bearer ...` (never written to any record).
        timeout (`float`, *optional*, defaults to 180): seconds per request.
        retries (`int`, *optional*, defaults to 3): further attempts after a failed one.
        backoff (`float`, *optional*, defaults to 2.0): seconds before the first retry, doubled each time.
        max_backoff (`float`, *optional*, defaults to 60): longest wait between attempts.
        max_images (`int`, *optional*, defaults to 8): keyframes sent (spread evenly over the clip's keyframes).
        max_image_side (`int`, *optional*, defaults to 768): keyframes are shrunk to this longer side.
        temperature (`float`, *optional*, defaults to 0.0): sampling temperature.
        seed (`int`, *optional*, defaults to 1234): sampling seed sent with the request (`None` to leave it out).
        max_tokens (`int`, *optional*, defaults to 2048): reply length limit.
        response_format (`str`, *optional*, defaults to `"none"`): also ask the server for `"json_object"` or a
            `"json_schema"`-constrained reply (not every server supports them; `huggingface_hub` sends the schema
            in TGI's grammar form, `{"type": "json_object", "value": schema}`).
    """

    url: str
    model: str
    prompt: str = DEFAULT_PROMPT
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 180.0
    retries: int = 3
    backoff: float = 2.0
    max_backoff: float = 60.0
    max_images: int = 8
    max_image_side: int = 768
    temperature: float = 0.0
    seed: int | None = 1234
    max_tokens: int = 2048
    response_format: str = "none"

    def __post_init__(self):
        chat_endpoint(self.url)
        if not self.model:
            raise ValueError("annotator model must name the served model")
        if self.retries < 0 or self.timeout <= 0 or self.backoff < 0 or self.max_images < 1:
            raise ValueError(
                f"need retries >= 0, timeout > 0, backoff >= 0, max_images >= 1; got {self.retries}, "
                f"{self.timeout}, {self.backoff}, {self.max_images}"
            )
        if self.response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {RESPONSE_FORMATS}, got {self.response_format!r}")


@dataclass
class AnnotationOutcome:
    """The annotation of a clip (`None` after the last failed attempt) and every attempt made."""

    annotation: Annotation | None
    attempts: list[AnnotationAttempt]
    model: str
    prompt_version: str
    prompt_sha256: str
    fine_windows: list[tuple[float, float]]
    contextual_windows: list[tuple[float, float]]

    @property
    def ok(self) -> bool:
        return self.annotation is not None

    @property
    def error(self) -> str | None:
        if self.ok or not self.attempts:
            return None
        last = self.attempts[-1]
        return f"{last.error_kind}: {last.message}"

    def to_record(self) -> dict:
        """A JSON-able record with the raw responses (what `curation/annotations/<clip>.json` holds)."""
        return {
            "ok": self.ok,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "prompt_sha256": self.prompt_sha256,
            "fine_windows": self.fine_windows,
            "contextual_windows": self.contextual_windows,
            "annotation": self.annotation.model_dump() if self.annotation is not None else None,
            "attempts": [asdict(attempt) for attempt in self.attempts],
        }


def _jpeg_data_url(rgb: np.ndarray, max_side: int) -> str:
    height, width = rgb.shape[:2]
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        rgb = cv2.resize(
            rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError(f"could not encode a {rgb.shape} keyframe as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")


class Annotator:
    """Annotates clips through an OpenAI-compatible endpoint (see the module docstring).

    Args:
        config (`AnnotatorConfig`): endpoint, model, prompt and retry policy.
    """

    def __init__(self, config: AnnotatorConfig):
        self.config = config
        self.client = ChatClient(config.url, config.model, api_key=config.api_key, timeout=config.timeout)
        self.endpoint = self.client.endpoint
        self.retry = RetryPolicy(attempts=config.retries + 1, backoff=config.backoff, max_backoff=config.max_backoff)
        self.prompt: AnnotationPrompt = load_annotation_prompt(config.prompt)

    def messages(
        self, keyframes: list[np.ndarray], timestamps: list[float], duration: float, source_caption: str | None = None
    ) -> tuple[list[dict], list[tuple[float, float]], list[tuple[float, float]]]:
        """The chat messages for a clip, and its fine and contextual windows."""
        if len(keyframes) != len(timestamps) or not keyframes:
            raise ValueError(
                f"need one timestamp per keyframe and at least one, got {len(keyframes)}/{len(timestamps)}"
            )
        chosen = uniform_indices(len(keyframes), self.config.max_images)
        times = [float(timestamps[i]) for i in chosen]
        fine = caption_windows(duration, *FINE_WINDOW)
        contextual = caption_windows(duration, *CONTEXTUAL_WINDOW)
        system, text = self.prompt.render(duration, times, fine, contextual, list(DIMENSIONS), source_caption)
        parts: list[dict] = [{"type": "text", "text": text}]
        for i, t in zip(chosen, times, strict=True):
            parts.append({"type": "text", "text": f"Keyframe at {t:.2f} s:"})
            url = _jpeg_data_url(keyframes[i], self.config.max_image_side)
            parts.append({"type": "image_url", "image_url": {"url": url}})
        return [{"role": "system", "content": system}, {"role": "user", "content": parts}], fine, contextual

    def _response_format(self) -> dict | None:
        if self.config.response_format == "json_object":
            return {"type": "json_object"}
        if self.config.response_format == "json_schema":
            schema = Annotation.model_json_schema()
            return {"type": "json_schema", "json_schema": {"name": "hmi_annotation", "schema": schema}}
        return None

    def annotate(
        self, keyframes: list[np.ndarray], timestamps: list[float], duration: float, source_caption: str | None = None
    ) -> AnnotationOutcome:
        """Annotate one clip, retrying failures; never raises for what the server does.

        Args:
            keyframes (`list[np.ndarray]`): `(H, W, 3)` uint8 RGB keyframes in temporal order.
            timestamps (`list[float]`): their times in seconds from the clip's start.
            duration (`float`): the clip's length in seconds.
            source_caption (`str`, *optional*): the source dataset's caption, given to the model as a hint.
        """
        messages, fine, contextual = self.messages(keyframes, timestamps, duration, source_caption)
        config, response_format = self.config, self._response_format()

        def attempt() -> tuple[Annotation, str]:
            reply = self.client.send(
                messages,
                temperature=config.temperature,
                seed=config.seed,
                max_tokens=config.max_tokens,
                response_format=response_format,
            )
            try:
                return parse_annotation(reply.content, len(fine), len(contextual)), reply.body
            except AnnotationFormatError as error:
                raise ChatError(str(error), error.kind, response=reply.body) from None

        annotation, attempts = self.retry.run(attempt, "annotation")
        return AnnotationOutcome(
            annotation=annotation,
            attempts=attempts,
            model=self.config.model,
            prompt_version=self.prompt.version,
            prompt_sha256=self.prompt.sha256,
            fine_windows=fine,
            contextual_windows=contextual,
        )
