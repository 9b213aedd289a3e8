"""What the annotator must return for a clip, and the check of a reply against it.

A reply is one JSON object (bare or in a code fence):

```json
{"fine": ["..."], "contextual": ["..."], "whole": "...",
 "qa": [{"question": "...", "answer": "...", "type": "open" | "true_false", "dimension": "details_of_movements"}]}
```

`fine` holds one caption per fine-grained window (2-5 s) and `contextual` one per contextual window (6-10 s) of the
clip, in order (`caption_windows`); `whole` describes the whole clip. The QA pairs must cover the five HMI-Bench
dimensions (the evaluator's names, `macm.evaluation.judge.DIMENSIONS`; loose spellings like "Micro-expressions" are
mapped to them) and hold both open-ended and true/false pairs; true/false answers are stored as "yes"/"no".
"""

from __future__ import annotations

import json
import math
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .bench_format import normalize_tf
from .dimensions import DIMENSIONS, canonical_dimension

__all__ = [
    "CONTEXTUAL_WINDOW",
    "FINE_WINDOW",
    "QA_TYPES",
    "Annotation",
    "AnnotationFormatError",
    "QAPair",
    "caption_windows",
    "parse_annotation",
]

FINE_WINDOW = (2.0, 5.0)  # seconds: the paper's fine-grained level
CONTEXTUAL_WINDOW = (6.0, 10.0)  # seconds: the paper's contextual level
QA_TYPES = ("open", "true_false")
_OPEN = {"open", "open-ended", "open_ended", "openended", "free-form"}
_TRUE_FALSE = {"true_false", "true/false", "truefalse", "tf", "t/f", "yes/no", "yes_no", "boolean", "judgement"}


def caption_windows(duration: float, shortest: float, longest: float) -> list[tuple[float, float]]:
    """The fewest equal windows of at most `longest` seconds covering `[0, duration]`; none if it is under `shortest`.

    Example:

    ```python
    >>> caption_windows(7.0, *FINE_WINDOW), caption_windows(7.0, *CONTEXTUAL_WINDOW), caption_windows(4.0, 6.0, 10.0)
    ([(0.0, 3.5), (3.5, 7.0)], [(0.0, 7.0)], [])
    ```
    """
    if duration + 1e-6 < shortest or duration <= 0:
        return []
    parts = max(1, math.ceil(duration / longest - 1e-9))
    return [(round(k * duration / parts, 3), round((k + 1) * duration / parts, 3)) for k in range(parts)]


class AnnotationFormatError(ValueError):
    """A reply that is not the expected annotation; `kind` is `"malformed_json"` or `"schema"`."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class QAPair(BaseModel):
    """One question about the person in the clip."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    question: str = Field(min_length=3)
    answer: str | bool
    type: str
    dimension: str

    @field_validator("dimension")
    @classmethod
    def _known_dimension(cls, value: str) -> str:
        dimension = canonical_dimension(value)
        if dimension is None:
            raise ValueError(f"unknown dimension {value!r}; expected one of {list(DIMENSIONS)}")
        return dimension

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        kind = value.strip().lower()
        if kind in _OPEN:
            return "open"
        if kind in _TRUE_FALSE:
            return "true_false"
        raise ValueError(f"unknown question type {value!r}; expected one of {list(QA_TYPES)}")

    @model_validator(mode="after")
    def _answer_fits_type(self) -> QAPair:
        if self.type == "true_false":
            verdict = normalize_tf(self.answer)
            if verdict is None:
                raise ValueError(f"true/false question {self.question!r} has answer {self.answer!r}, not yes/no")
            self.answer = "yes" if verdict else "no"
        elif not isinstance(self.answer, str) or not self.answer:
            raise ValueError(f"open question {self.question!r} needs an answer text, got {self.answer!r}")
        return self


class Annotation(BaseModel):
    """A clip's captions at three levels and its QA pairs."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    fine: list[str]
    contextual: list[str] = Field(default_factory=list)
    whole: str = Field(min_length=1)
    qa: list[QAPair] = Field(min_length=1)


def _json_object(text: str) -> dict:
    fenced = re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    candidates = [*fenced, text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise AnnotationFormatError("malformed_json", f"reply holds no JSON object: {text[:200]!r}")


def parse_annotation(text: str, num_fine: int, num_contextual: int) -> Annotation:
    """Check a reply against the schema and the clip's windows.

    Raises:
        `AnnotationFormatError`: with `kind="malformed_json"` when there is no JSON object, `kind="schema"` when the
            object does not fit (the message names every problem found).
    """
    data = _json_object(text)
    try:
        annotation = Annotation.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in error.errors())
        raise AnnotationFormatError("schema", f"reply does not fit the annotation schema: {problems}") from None
    problems = []
    for key, expected in (("fine", num_fine), ("contextual", num_contextual)):
        captions = getattr(annotation, key)
        if len(captions) != expected:
            problems.append(f"{key!r} has {len(captions)} captions for {expected} windows")
        if any(not caption for caption in captions):
            problems.append(f"{key!r} has an empty caption")
    missing = [d for d in DIMENSIONS if d not in {qa.dimension for qa in annotation.qa}]
    if missing:
        problems.append(f"no QA pair for dimensions {missing}")
    types = {qa.type for qa in annotation.qa}
    if types != set(QA_TYPES):
        problems.append(f"QA pairs need both types {list(QA_TYPES)}, got {sorted(types)}")
    if problems:
        raise AnnotationFormatError("schema", "reply does not fit the clip: " + "; ".join(problems))
    return annotation
