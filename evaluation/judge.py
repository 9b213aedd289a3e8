"""LLM judge for the five HMI-Bench dimensions of human motion understanding (0-10 each, Overall = their mean).

A judge is a backend that turns chat messages into text, plus a versioned prompt, a cache and a parser:

- backends: `OpenAIJudge` (any OpenAI-compatible ``/v1/chat/completions`` server, e.g. vLLM or TGI, through
  `macm.processing.chat_client`; ``temperature=0`` and a pinned ``seed``) and `TransformersJudge` (a local causal
  LM, greedy decoding);
- prompts: ``prompts/<version>.md`` files with a small front matter, a ``## System`` and a ``## User`` section and
  ``{{reference}}`` / ``{{prediction}}`` placeholders (`load_prompt`);
- `JudgeCache`: a JSON-lines file; a judgement is stored under sha256 of (prompt version, prompt text, judge model,
  item id, prediction, reference), so a re-run costs no request and a changed prompt never reuses old judgements;
- `parse_dimension_scores`: JSON (also inside code fences or followed by prose), loose ``name: 7/10`` lines, values
  clamped to [0, 10];
- `CaptionJudge`: scores captions (five dimensions) and open-ended answers (``judge_answer``, one 0-10 score with the
  ``judge_qa_v1`` prompt); retries transport and parse failures with the chat client's `RetryPolicy` (the HMI
  annotator's too), then records the failure and the last raw reply in the result instead of raising, so one bad
  item never stops a benchmark run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from macm.processing.chat_client import ChatClient, ChatError, RetryPolicy
from macm.processing.hmi.dimensions import DIMENSION_TITLES, DIMENSIONS, canonical_dimension
from macm.processing.prompt_files import VersionedPrompt, parse_prompt_file

__all__ = [
    "DIMENSIONS",
    "DIMENSION_TITLES",
    "CaptionJudge",
    "JudgeBackend",
    "JudgeCache",
    "JudgeParseError",
    "JudgePrompt",
    "JudgeResult",
    "OpenAIJudge",
    "TransformersJudge",
    "VersionedPrompt",
    "canonical_dimension",
    "load_prompt",
    "parse_dimension_scores",
    "parse_single_score",
    "summarize_judgements",
]

logger = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
DEFAULT_SEED = 1234


# ----------------------------------------------------------------------------------------------------------------
# Prompts
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgePrompt(VersionedPrompt):
    """A versioned judge prompt: its ``user_template`` has ``{{reference}}`` and ``{{prediction}}`` placeholders
    (and ``{{question}}`` in prompts for open-ended questions)."""

    def render(self, reference: str, prediction: str, question: str | None = None) -> list[dict[str, str]]:
        """Chat messages for one (reference, prediction) pair, and the question for question prompts."""
        if ("{{question}}" in self.user_template) != (question is not None):
            raise ValueError(
                f"prompt {self.version!r} {'needs' if question is None else 'has no place for'} a question"
            )
        user = self.user_template.replace("{{reference}}", reference).replace("{{prediction}}", prediction)
        if question is not None:
            user = user.replace("{{question}}", question)
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def load_prompt(name_or_path: str | Path = "judge_v1") -> JudgePrompt:
    """Reads a prompt file: a name under ``evaluation/prompts/`` (``"judge_v1"``) or a path to a ``.md`` file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPTS_DIR / f"{name_or_path}.md"
    if not path.is_file():
        raise FileNotFoundError(f"judge prompt {str(name_or_path)!r} not found (looked for {path})")
    version, parts = parse_prompt_file(path, "judge prompt")
    for placeholder in ("{{reference}}", "{{prediction}}"):
        if placeholder not in parts["User"]:
            raise ValueError(f"{path}: the User section lacks the placeholder {placeholder}")
    return JudgePrompt(version=version, system=parts["System"], user_template=parts["User"])


# ----------------------------------------------------------------------------------------------------------------
# Parsing
# ----------------------------------------------------------------------------------------------------------------


class JudgeParseError(ValueError):
    """The judge's reply holds no usable scores."""


def _clamp(value: float) -> float:
    return min(10.0, max(0.0, float(value)))


def _to_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        for key in ("score", "value", "rating"):
            if key in value:
                return _to_number(value[key])
        return None
    if isinstance(value, str):
        match = re.search(r"-?\d+(?:\.\d+)?", value)
        return float(match.group()) if match else None
    return None


def _json_objects(text: str) -> Iterable[dict]:
    """JSON objects found in a reply: fenced blocks first, then every balanced ``{...}`` span."""
    candidates = re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.S) + [text]
    for candidate in candidates:
        depth, start = 0, None
        for i, ch in enumerate(candidate):
            if ch == "{":
                if depth == 0:
                    start = i
                depth += 1
            elif ch == "}" and depth > 0:
                depth -= 1
                if depth == 0 and start is not None:
                    span = candidate[start : i + 1]
                    for fixed in (span, re.sub(r",\s*([}\]])", r"\1", span).replace("'", '"')):
                        try:
                            parsed = json.loads(fixed)
                        except json.JSONDecodeError:
                            continue
                        if isinstance(parsed, dict):
                            yield parsed
                        break


def parse_dimension_scores(text: str) -> dict[str, float]:
    """The five dimension scores in a judge reply, each clamped to [0, 10].

    Accepts a JSON object (bare, in a code fence, followed by prose, with trailing commas or single quotes; values
    may be numbers, numeric strings like ``"7/10"`` or ``{"score": 7}``; scores may sit under a ``"scores"`` key), or
    one ``<dimension name>: 7/10`` line per dimension.

    Raises:
        `JudgeParseError`: when any of the five dimensions is missing.

    Example:

    ```python
    >>> parse_dimension_scores('```json\\n{"details_of_movements": 7, "interaction_with_environment": "5/10", '
    ...     '"motivation_and_reason": 12, "micro_expressions_and_emotions": 3, "character_attributes": 6}\\n```')
    {'details_of_movements': 7.0, 'interaction_with_environment': 5.0, 'motivation_and_reason': 10.0, ...}
    ```
    """
    for obj in _json_objects(text):
        if isinstance(obj.get("scores"), dict):
            obj = obj["scores"]
        scores: dict[str, float] = {}
        for key, value in obj.items():
            dimension = canonical_dimension(str(key))
            number = _to_number(value)
            if dimension is not None and number is not None and dimension not in scores:
                scores[dimension] = _clamp(number)
        if len(scores) == len(DIMENSIONS):
            return {d: scores[d] for d in DIMENSIONS}
    scores = {}
    for line in text.splitlines():
        match = re.match(
            r"^\W*([A-Za-z][A-Za-z _\-/&]+?)\W*[:=-]\s*\**\s*(-?\d+(?:\.\d+)?)\s*(?:/\s*10)?", line.strip()
        )
        if match:
            dimension = canonical_dimension(match.group(1))
            if dimension is not None and dimension not in scores:
                scores[dimension] = _clamp(float(match.group(2)))
    if len(scores) == len(DIMENSIONS):
        return {d: scores[d] for d in DIMENSIONS}
    missing = [d for d in DIMENSIONS if d not in scores]
    raise JudgeParseError(f"judge reply lacks scores for {missing}: {text[:200]!r}")


def parse_single_score(text: str) -> float:
    """One 0-10 score from a reply: ``{"score": 7}``, ``Score: 7/10``, ``7/10`` or a bare number; clamped."""
    for obj in _json_objects(text):
        for key in ("score", "rating", "overall"):
            if key in obj and (number := _to_number(obj[key])) is not None:
                return _clamp(number)
    for pattern in (r"score\W{0,3}(-?\d+(?:\.\d+)?)", r"(-?\d+(?:\.\d+)?)\s*/\s*10", r"^\s*(-?\d+(?:\.\d+)?)\s*$"):
        match = re.search(pattern, text, flags=re.I | re.M)
        if match:
            return _clamp(float(match.group(1)))
    raise JudgeParseError(f"judge reply holds no score: {text[:200]!r}")


# ----------------------------------------------------------------------------------------------------------------
# Backends
# ----------------------------------------------------------------------------------------------------------------


class JudgeBackend(ABC):
    """Turns chat messages into the judge's reply text, deterministically (greedy / temperature 0, fixed seed)."""

    #: name recorded in the cache key and the report (the served model id or the local model path).
    model_name: str

    @abstractmethod
    def complete(self, messages: list[dict[str, str]]) -> str: ...


class OpenAIJudge(JudgeBackend):
    """A judge behind an OpenAI-compatible chat completions endpoint (OpenAI, vLLM, TGI, llama.cpp server ...).

    Args:
        url (`str`): the server root (``http://host:8000``) or its ``/v1`` base; ``/v1/chat/completions`` is added.
        model (`str`): the model id the server serves.
        api_key (`str`, *optional*): sent as ``Authorization: Bearer ...`` when given.
        seed (`int`, *optional*, defaults to 1234): pinned sampling seed, sent with ``temperature=0``.
        max_tokens (`int`, *optional*, defaults to 512): reply length limit.
        timeout (`float`, *optional*, defaults to 120): seconds per request.
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        seed: int = DEFAULT_SEED,
        max_tokens: int = 512,
        timeout: float = 120.0,
    ):
        self.client = ChatClient(url, model, api_key=api_key, timeout=timeout)
        self.endpoint = self.client.endpoint
        self.model_name = model
        self.seed = seed
        self.max_tokens = max_tokens

    def complete(self, messages: list[dict[str, str]]) -> str:
        return self.client.send(messages, temperature=0, seed=self.seed, max_tokens=self.max_tokens).content


class TransformersJudge(JudgeBackend):
    """A local causal LM as judge (transformers, greedy decoding, so replies are reproducible).

    Args:
        model_path (`str`): a local folder or Hub id of a chat model (``AutoModelForCausalLM``).
        max_new_tokens (`int`, *optional*, defaults to 256): reply length limit.
        device (`str`, *optional*): where to run it; defaults to CUDA when available, else CPU.
    """

    def __init__(self, model_path: str, max_new_tokens: int = 256, device: str | None = None):
        self.model_name = str(model_path)
        self.model_path = str(model_path)
        self.max_new_tokens = max_new_tokens
        self.device = device
        self._model = None
        self._tokenizer = None

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self._model = AutoModelForCausalLM.from_pretrained(self.model_path).to(device).eval()

    def complete(self, messages: list[dict[str, str]]) -> str:
        import torch

        if self._model is None:
            self._load()
        tokenizer, model = self._tokenizer, self._model
        if getattr(tokenizer, "chat_template", None):
            prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = "\n\n".join(f"{m['role'].upper()}:\n{m['content']}" for m in messages) + "\n\nASSISTANT:\n"
        inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
        pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        with torch.no_grad():
            output = model.generate(
                **inputs, do_sample=False, max_new_tokens=self.max_new_tokens, pad_token_id=pad_token_id
            )
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


# ----------------------------------------------------------------------------------------------------------------
# Cache and driver
# ----------------------------------------------------------------------------------------------------------------


class JudgeCache:
    """Append-only JSON-lines store of judgements, ``{"key": ..., "scores": ..., "raw": ...}`` per line.

    Args:
        path (`str` or `Path`, *optional*): the file; `None` keeps the cache in memory only.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        self._entries: dict[str, dict] = {}
        if self.path is not None and self.path.is_file():
            with self.path.open(encoding="utf-8") as handle:
                for line_number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        self._entries[entry["key"]] = entry
                    except (json.JSONDecodeError, KeyError, TypeError):
                        logger.warning("%s:%d: skipping an unreadable cache line", self.path, line_number)

    @staticmethod
    def make_key(prompt: JudgePrompt, judge_model: str, item_id: str, prediction: str, reference: str) -> str:
        """sha256 over (prompt version, prompt text hash, judge model, item id, prediction, reference)."""
        fields = [prompt.version, prompt.sha256, judge_model, item_id, prediction, reference]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict | None:
        return self._entries.get(key)

    def put(self, key: str, entry: dict) -> None:
        entry = {"key": key, **entry}
        self._entries[key] = entry
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class JudgeResult:
    """The judgement of one item.

    Args:
        item_id (`str`): the sample (video path).
        scores (`dict[str, float]`, *optional*): the five dimension scores; `None` when judging failed.
        overall (`float`, *optional*): mean of the five scores.
        error (`str`, *optional*): why judging failed after all retries.
        raw (`str`, *optional*): the judge's last reply.
        cached (`bool`): served from the cache, no request made.
        attempts (`int`): requests made for this item in this run.
    """

    item_id: str
    scores: dict[str, float] | None = None
    overall: float | None = None
    error: str | None = None
    raw: str | None = None
    cached: bool = False
    attempts: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _join_references(references: str | Sequence[str]) -> str:
    if isinstance(references, str):
        return references
    if len(references) == 1:
        return references[0]
    return "\n".join(f"{i + 1}. {text}" for i, text in enumerate(references))


@dataclass
class CaptionJudge:
    """Scores captions on the five dimensions, and open-ended answers 0-10, with a backend, prompts and a cache.

    Args:
        backend ([`JudgeBackend`]): the judge model.
        prompt ([`JudgePrompt`], *optional*): caption prompt; defaults to ``load_prompt("judge_v1")``.
        qa_prompt ([`JudgePrompt`], *optional*): open-ended answer prompt; defaults to ``load_prompt("judge_qa_v1")``.
        cache ([`JudgeCache`], *optional*): defaults to an in-memory cache.
        max_attempts (`int`, *optional*, defaults to 3): requests per item before the failure is recorded (an HTTP
            status that retrying cannot help, e.g. 400, stops at once).
        backoff_s (`float`, *optional*, defaults to 2.0): sleep before retry k is ``backoff_s * 2 ** (k - 1)`` (or
            the server's ``Retry-After``), at most 60 s.
    """

    backend: JudgeBackend
    prompt: JudgePrompt = field(default_factory=load_prompt)
    qa_prompt: JudgePrompt = field(default_factory=lambda: load_prompt("judge_qa_v1"))
    cache: JudgeCache = field(default_factory=JudgeCache)
    max_attempts: int = 3
    backoff_s: float = 2.0

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.backoff_s < 0:
            raise ValueError(f"backoff_s must be >= 0, got {self.backoff_s}")
        self._retry = RetryPolicy(attempts=self.max_attempts, backoff=self.backoff_s)

    def judge(self, item_id: str, references: str | Sequence[str], prediction: str) -> JudgeResult:
        """Judges one caption on the five dimensions; several references are shown as one numbered list."""
        reference = _join_references(references)
        messages = self.prompt.render(reference, prediction)
        return self._run(item_id, self.prompt, messages, prediction, reference, parse_dimension_scores)

    def judge_answer(self, item_id: str, question: str, reference: str, answer: str) -> JudgeResult:
        """Judges one open-ended answer 0-10; the result's `scores` is ``{"score": x}``."""
        messages = self.qa_prompt.render(reference, answer, question=question)
        return self._run(
            item_id,
            self.qa_prompt,
            messages,
            answer,
            f"{question}\n{reference}",
            lambda text: {"score": parse_single_score(text)},
        )

    def _run(self, item_id, prompt, messages, prediction, reference, parse) -> JudgeResult:
        key = JudgeCache.make_key(prompt, self.backend.model_name, item_id, prediction, reference)
        entry = self.cache.get(key)
        if entry is not None:
            scores = entry["scores"]
            return JudgeResult(item_id, scores, _mean(scores.values()), raw=entry.get("raw"), cached=True)

        def attempt() -> tuple[tuple[str, dict[str, float]], str]:
            raw = None
            try:
                raw = self.backend.complete(messages)
                return (raw, parse(raw)), raw
            except ChatError:
                raise
            except Exception as exc:  # a local backend's failure or an unusable reply: retried, then recorded
                raise ChatError(str(exc), type(exc).__name__, response=raw) from exc

        value, attempts = self._retry.run(attempt, f"judge {item_id}")
        if value is None:
            last = attempts[-1]
            return JudgeResult(
                item_id, error=f"{last.error_kind}: {last.message}", raw=last.response, attempts=len(attempts)
            )
        raw, scores = value
        entry = {
            "item_id": item_id,
            "judge_model": self.backend.model_name,
            "prompt_version": prompt.version,
            "scores": scores,
            "raw": raw,
        }
        self.cache.put(key, entry)
        return JudgeResult(item_id, scores, _mean(scores.values()), raw=raw, attempts=len(attempts))

    def judge_many(
        self, items: Iterable[tuple[str, str | Sequence[str], str]], progress: bool = True
    ) -> list[JudgeResult]:
        """Judges ``(item_id, references, prediction)`` caption triples in order, with a progress bar."""
        items = list(items)
        return [self.judge(*item) for item in tqdm(items, desc="LLM judge", disable=not progress)]


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def summarize_judgements(results: Sequence[JudgeResult]) -> dict:
    """Mean score per dimension over the judged items, Overall (mean of the five means) and the failures.

    Returns:
        `dict`: ``{"dimensions": {dim: mean}, "overall": float | None, "n_judged": int, "n_failed": int,
        "n_cached": int, "failed_items": [item_id, ...]}``.
    """
    ok = [r for r in results if r.scores is not None]
    dimensions = {d: _mean(r.scores[d] for r in ok) for d in DIMENSIONS} if ok else {}
    return {
        "dimensions": dimensions,
        "overall": _mean(dimensions.values()) if dimensions else None,
        "n_judged": len(ok),
        "n_failed": len(results) - len(ok),
        "n_cached": sum(r.cached for r in results),
        "failed_items": [r.item_id for r in results if r.scores is None],
    }
