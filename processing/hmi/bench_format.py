"""The published HMI-Bench layout: its reference captions and its question/answer pairs.

::

    HMI-Bench/
        HMI-Bench.json      [{"video": "videos/xxx.mp4", "caption": "..."}, ...]
        HMI-Bench-QA.json   question/answer pairs (schema not published, see `load_qa`)
        videos/

Low in the stack (HMI loading, the evaluator and the trainer's data all read it); ``macm.evaluation.bench`` adds
prediction files and accuracy on top.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BENCH_FILE",
    "QA_FILE",
    "BenchItem",
    "HmiBench",
    "QAItem",
    "check_relative_path",
    "load_bench",
    "load_qa",
    "normalize_tf",
]

logger = logging.getLogger(__name__)

BENCH_FILE = "HMI-Bench.json"
QA_FILE = "HMI-Bench-QA.json"

_QUESTION_KEYS = ("question", "q", "Q", "query", "prompt")
_ANSWER_KEYS = ("answer", "a", "A", "gt", "ground_truth", "label")
_TYPE_KEYS = ("type", "question_type", "qa_type", "format", "kind")
_DIMENSION_KEYS = ("dimension", "category", "aspect", "dim", "task")
_QA_LIST_KEYS = ("qa", "QA", "qas", "qa_pairs", "questions", "conversations")
_TF_TYPES = {
    "tf",
    "t/f",
    "true/false",
    "true_false",
    "truefalse",
    "yes/no",
    "yes_no",
    "yesno",
    "judge",
    "judgement",
    "judgment",
    "binary",
    "boolean",
    "bool",
    "closed",
    "close-ended",
    "closed-ended",
}
_OPEN_TYPES = {"open", "open-ended", "open_ended", "openended", "oe", "free", "free-form", "descriptive"}
_TRUE_WORDS = {"yes", "true", "correct", "right", "y", "t"}
_FALSE_WORDS = {"no", "false", "incorrect", "wrong", "n", "f"}


def normalize_tf(answer) -> bool | None:
    """`True`/`False` for a yes/no/true/false answer (first word, case and punctuation ignored); else `None`.

    Example:

    ```python
    >>> [normalize_tf(a) for a in ["Yes.", "FALSE", "No, he does not.", True, "maybe"]]
    [True, False, False, True, None]
    ```
    """
    if isinstance(answer, bool):
        return answer
    if not isinstance(answer, str):
        return None
    words = re.findall(r"[a-z]+", answer.lower())
    if not words:
        return None
    if words[0] in _TRUE_WORDS:
        return True
    if words[0] in _FALSE_WORDS:
        return False
    return None


@dataclass
class QAItem:
    """One question about a video.

    Args:
        video (`str`): the video path as the benchmark writes it.
        question (`str`): the question text.
        answer (`str`): the reference answer (for true/false items, a yes/no/true/false word).
        kind (`str`): ``"tf"`` (true/false) or ``"open"``.
        dimension (`str`, *optional*): the motion-understanding dimension, when the file gives one.
        index (`int`): position among the video's questions (the order ``answers`` lists follow).
    """

    video: str
    question: str
    answer: str
    kind: str
    dimension: str | None = None
    index: int = 0


@dataclass
class BenchItem:
    """A benchmark video: its reference captions and questions, and the row's other fields in ``extra`` (e.g. a
    SynthMotion-style ``joints_file`` and ``fps``, which the motion-consistency score reads)."""

    video: str
    captions: list[str]
    qa: list[QAItem] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class HmiBench:
    """A loaded HMI-Bench folder: ``items`` in file order, ``root`` for the video files."""

    root: Path
    items: list[BenchItem]

    def __post_init__(self):
        self._by_video = {item.video: item for item in self.items}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, video: str) -> BenchItem:
        return self._by_video[video]

    def video_path(self, item: BenchItem) -> Path:
        """The file of an item's video."""
        return self.root / item.video

    @property
    def qa_items(self) -> list[QAItem]:
        return [qa for item in self.items for qa in item.qa]


def _read_json(path: Path):
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def _first(record: Mapping, keys: Sequence[str]):
    for key in keys:
        if key in record:
            return record[key]
    return None


def check_relative_path(path: str, where: str) -> str:
    """``path`` if it stays inside the dataset folder; a `ValueError` naming ``where`` for an absolute path or one
    with a ``..`` component (a dataset must not make the loader read files outside its folder)."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path) or ".." in parts:
        raise ValueError(f"{where}: path {path!r} escapes the dataset folder (absolute, or with '..')")
    return path


def _load_captions(path: Path) -> list[tuple[str, list[str], dict]]:
    data = _read_json(path)
    if isinstance(data, dict):
        # {video: caption} is accepted as well as the published list of {"video", "caption"} objects.
        data = [{"video": video, "caption": caption} for video, caption in data.items()]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of {{'video', 'caption'}} objects, got {type(data).__name__}")
    items: list[tuple[str, list[str], dict]] = []
    seen: set[str] = set()
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise ValueError(f"{path}: item {index} must be an object, got {record!r:.80}")
        video = record.get("video")
        caption = _first(record, ("caption", "captions", "description"))
        if not isinstance(video, str) or not video:
            raise ValueError(f"{path}: item {index} has no 'video' path: {record!r:.120}")
        check_relative_path(video, f"{path}: item {index}")
        if isinstance(caption, str):
            captions = [caption]
        elif isinstance(caption, list) and caption and all(isinstance(c, str) for c in caption):
            captions = list(caption)
        else:
            raise ValueError(
                f"{path}: item {index} ({video}) needs 'caption' as text or a list of texts, got {caption!r:.80}"
            )
        if video in seen:
            raise ValueError(f"{path}: item {index} repeats video {video!r}")
        seen.add(video)
        extra = {k: v for k, v in record.items() if k not in ("video", "caption", "captions", "description")}
        items.append((video, captions, extra))
    return items


def _qa_kind(record: Mapping, answer: str, path: Path, where: str) -> str:
    raw_type = _first(record, _TYPE_KEYS)
    if raw_type is not None:
        kind = str(raw_type).strip().lower()
        if kind in _TF_TYPES:
            return "tf"
        if kind in _OPEN_TYPES:
            return "open"
        raise ValueError(
            f"{path}: {where} has unknown question type {raw_type!r}; expected one of true/false or open-ended forms"
        )
    return "tf" if normalize_tf(answer) is not None and len(answer.split()) <= 2 else "open"


def _qa_record(record, video: str, index: int, path: Path, where: str) -> QAItem:
    if not isinstance(record, dict):
        raise ValueError(f"{path}: {where} must be an object with a question and an answer, got {record!r:.80}")
    question = _first(record, _QUESTION_KEYS)
    answer = _first(record, _ANSWER_KEYS)
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{path}: {where} has no question (looked for {list(_QUESTION_KEYS)}): {record!r:.120}")
    if isinstance(answer, bool):
        answer = "yes" if answer else "no"
    if not isinstance(answer, str):
        raise ValueError(f"{path}: {where} has no answer text (looked for {list(_ANSWER_KEYS)}): {record!r:.120}")
    dimension = _first(record, _DIMENSION_KEYS)
    return QAItem(
        video=video,
        question=question.strip(),
        answer=answer.strip(),
        kind=_qa_kind(record, answer, path, where),
        dimension=str(dimension) if dimension is not None else None,
        index=index,
    )


def load_qa(path: str | Path) -> list[QAItem]:
    """Reads HMI-Bench-QA.json in any of these shapes (the published schema is unknown):

    - a list of ``{"video", "question", "answer", "type"?, "dimension"?}`` objects;
    - a list of ``{"video", "qa": [{"question", "answer", ...}, ...]}`` (also ``"qas"``, ``"questions"``, ...);
    - an object ``{video: [{"question", "answer", ...}, ...]}``.

    Key aliases: question ``q``/``Q``; answer ``a``/``A``/``gt``; type ``question_type``/``qa_type``; dimension
    ``category``/``aspect``. Without a type, a one- or two-word yes/no/true/false answer makes a true/false item.

    Raises:
        `ValueError`: naming the file and the offending item when the shape is none of these.
    """
    path = Path(path)
    data = _read_json(path)
    groups: list[tuple[str, list, str]] = []  # (video, records, where)
    flat: list[QAItem] = []
    if isinstance(data, dict):
        for video, records in data.items():
            if not isinstance(records, list):
                raise ValueError(
                    f"{path}: entry {video!r} must be a list of question objects, got {type(records).__name__}"
                )
            groups.append((video, records, f"entry {video!r}"))
    elif isinstance(data, list):
        counters: dict[str, int] = {}
        for index, record in enumerate(data):
            if not isinstance(record, dict) or not isinstance(record.get("video"), str):
                raise ValueError(f"{path}: item {index} must be an object with a 'video' path, got {record!r:.120}")
            video = record["video"]
            nested = _first(record, _QA_LIST_KEYS)
            if isinstance(nested, list):
                groups.append((video, nested, f"item {index} ({video})"))
            elif _first(record, _QUESTION_KEYS) is not None:
                position = counters.get(video, 0)
                counters[video] = position + 1
                flat.append(_qa_record(record, video, position, path, f"item {index} ({video})"))
            else:
                raise ValueError(
                    f"{path}: item {index} ({video}) has neither a question nor a list of questions "
                    f"(looked for {list(_QUESTION_KEYS + _QA_LIST_KEYS)}): {record!r:.120}"
                )
    else:
        raise ValueError(f"{path}: expected a list or an object of question/answer pairs, got {type(data).__name__}")
    for video, records, where in groups:
        offset = sum(1 for qa in flat if qa.video == video)
        for k, record in enumerate(records):
            flat.append(_qa_record(record, video, offset + k, path, f"{where} question {k}"))
    return flat


def load_bench(root: str | Path) -> HmiBench:
    """Loads an HMI-Bench folder (``HMI-Bench.json`` required, ``HMI-Bench-QA.json`` optional).

    Raises:
        `FileNotFoundError`: when the folder or ``HMI-Bench.json`` is missing.
        `ValueError`: naming the file and item when an entry is malformed, or when a question names a video that is
            not in ``HMI-Bench.json``.
    """
    root = Path(root)
    captions_path = root / BENCH_FILE
    if not captions_path.is_file():
        raise FileNotFoundError(f"{captions_path} not found: --bench must be an HMI-Bench folder holding {BENCH_FILE}")
    items = [
        BenchItem(video=video, captions=captions, extra=extra)
        for video, captions, extra in _load_captions(captions_path)
    ]
    by_video = {item.video: item for item in items}
    qa_path = root / QA_FILE
    if qa_path.is_file():
        for qa in load_qa(qa_path):
            if qa.video not in by_video:
                raise ValueError(
                    f"{qa_path}: question {qa.question!r:.60} is about {qa.video!r}, which {BENCH_FILE} lacks"
                )
            by_video[qa.video].qa.append(qa)
    else:
        logger.info("%s not found: no question answering results", qa_path)
    logger.info("Loaded %d videos and %d questions from %s", len(items), sum(len(i.qa) for i in items), root)
    return HmiBench(root=root, items=items)
