"""Caption metrics for HMI-Bench: BLEU-1..4, METEOR, ROUGE-1/2/L and CIDEr, scored by pycocoevalcap.

BLEU, ROUGE-L and CIDEr are always pycocoevalcap's own `Bleu(4)`, `Rouge` and `Cider` (pure Python). The two
backends differ only in what needs Java:

- ``"coco"``: pycocoevalcap's Java PTB tokenizer and Java METEOR 1.5; the reference the paper's table was computed
  with; needs ``java`` on the PATH.
- ``"python"``: no Java. `ptb_tokenizer` mimics the Java tokenizer and `meteor` re-implements METEOR (exact, stem
  and, when pycocoevalcap's jar is installed to read WordNet from, synonym matching; no paraphrases), reported with
  its measured gap.

``"auto"`` picks ``"coco"`` when Java is present, else ``"python"``. Both need the ``pycocoevalcap`` package
(the ``eval`` extra).

ROUGE-1 and ROUGE-2 are not part of pycocoevalcap; both backends compute them in Python on the backend's tokens:
per sample the n-gram F1 (beta = 1, clipped n-gram counts, Lin 2004) against each reference, the best reference
kept, then the mean over samples (the definition of Google's ``rouge-score`` with several references).
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .meteor import meteor_corpus, resolve_synonyms
from .ptb_tokenizer import tokenize_caption

__all__ = [
    "CAPTION_METRICS",
    "CaptionScores",
    "compute_caption_metrics",
    "resolve_backend",
    "rouge_n",
]

logger = logging.getLogger(__name__)

CAPTION_METRICS: tuple[str, ...] = (
    "BLEU-1",
    "BLEU-2",
    "BLEU-3",
    "BLEU-4",
    "METEOR",
    "ROUGE-1",
    "ROUGE-2",
    "ROUGE-L",
    "CIDEr",
)


@dataclass
class CaptionScores:
    """Corpus and per-sample caption metrics.

    Args:
        corpus (`dict[str, float]`): one value per name in `CAPTION_METRICS`.
        per_sample (`dict[str, dict[str, float]]`): for each sample id, the same metrics for that sample alone
            (BLEU-n per sample is pycocoevalcap's per-image BLEU; CIDEr per sample still uses the corpus idf).
        backend (`str`): ``"coco"`` or ``"python"``.
        meteor_modules (`list[str]`): the METEOR matching modules used (Java: exact, stem, synonym, paraphrase;
            Python: exact, stem, and synonym when pycocoevalcap's jar provides the WordNet data).
        tokenized_predictions / tokenized_references: the tokenised text every metric saw.
    """

    corpus: dict[str, float]
    per_sample: dict[str, dict[str, float]]
    backend: str
    meteor_modules: list[str] = field(default_factory=list)
    tokenized_predictions: dict[str, str] = field(default_factory=dict)
    tokenized_references: dict[str, list[str]] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------------
# ROUGE-1/2 (pycocoevalcap has ROUGE-L only)
# ----------------------------------------------------------------------------------------------------------------


def rouge_n(prediction: str, references: Sequence[str], n: int) -> float:
    """ROUGE-N F1 of one sample: clipped n-gram overlap, best reference by F1 (see the module docstring)."""
    words = prediction.split()
    pred_counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    best = 0.0
    for reference in references:
        ref_words = reference.split()
        ref_counts = Counter(tuple(ref_words[i : i + n]) for i in range(len(ref_words) - n + 1))
        overlap = sum((pred_counts & ref_counts).values())
        if overlap == 0:
            continue
        precision = overlap / sum(pred_counts.values())
        recall = overlap / sum(ref_counts.values())
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


# ----------------------------------------------------------------------------------------------------------------
# Backends
# ----------------------------------------------------------------------------------------------------------------


def resolve_backend(backend: str = "auto") -> str:
    """``"coco"`` or ``"python"`` for a requested backend; both need pycocoevalcap, ``"coco"`` also ``java``."""
    if backend not in ("auto", "coco", "python"):
        raise ValueError(f"backend must be 'auto', 'coco' or 'python', got {backend!r}")
    if importlib.util.find_spec("pycocoevalcap") is None:
        raise RuntimeError(
            "caption metrics need the `pycocoevalcap` package (BLEU, ROUGE-L and CIDEr are its scorers): "
            "pip install 'macm[eval]'"
        )
    have_java = shutil.which("java") is not None
    if backend == "coco" and not have_java:
        raise RuntimeError("backend='coco' needs `java` on the PATH; use backend='python' instead.")
    if backend == "auto":
        return "coco" if have_java else "python"
    return backend


def _validate(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> None:
    if set(predictions) != set(references):
        missing = sorted(set(references) - set(predictions))[:5]
        extra = sorted(set(predictions) - set(references))[:5]
        raise ValueError(f"predictions and references must have the same ids; missing={missing}, extra={extra}")
    if not predictions:
        raise ValueError("predictions is empty: nothing to score")
    for key, refs in references.items():
        if isinstance(refs, str) or not refs:
            raise ValueError(f"references[{key!r}] must be a non-empty list of strings, got {refs!r}")
        if not isinstance(predictions[key], str):
            raise ValueError(f"predictions[{key!r}] must be a string, got {type(predictions[key]).__name__}")


def _coco_tokenize(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # One Java call for everything; ids are prefixed so predictions and references cannot collide.
    # An empty caption would shift the tokenizer's output lines, so it is sent as a space.
    captions = {f"p{key}": [{"caption": predictions[key] or " "}] for key in predictions}
    captions.update({f"r{key}": [{"caption": text or " "} for text in references[key]] for key in references})
    tokenized = PTBTokenizer().tokenize(captions)
    return (
        {key: tokenized[f"p{key}"][0] for key in predictions},
        {key: tokenized[f"r{key}"] for key in references},
    )


def _library_scores(keys: list[str], preds: dict[str, str], refs: dict[str, list[str]]) -> dict[str, tuple]:
    """pycocoevalcap's BLEU-1..4, ROUGE-L and CIDEr: ``{name: (corpus, per-sample)}`` (BLEU: lists over n)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts = {key: refs[key] for key in keys}
    res = {key: [preds[key]] for key in keys}
    bleu_corpus, bleu_samples = Bleu(4).compute_score(gts, res, verbose=0)
    rouge_score, rouge_samples = Rouge().compute_score(gts, res)
    cider_score, cider_samples = Cider().compute_score(gts, res)
    return {
        "BLEU": ([float(v) for v in bleu_corpus], [[float(v) for v in k] for k in bleu_samples]),
        "ROUGE-L": (float(rouge_score), [float(v) for v in rouge_samples]),
        "CIDEr": (float(cider_score), [float(v) for v in cider_samples]),
    }


def _java_meteor(keys: list[str], preds: dict[str, str], refs: dict[str, list[str]]) -> tuple[float, list[float]]:
    from pycocoevalcap.meteor.meteor import Meteor

    meteor = Meteor()
    try:
        score, samples = meteor.compute_score({key: refs[key] for key in keys}, {key: [preds[key]] for key in keys})
    finally:
        del meteor  # closes the Java process
    return float(score), [float(v) for v in samples]


def compute_caption_metrics(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    backend: str = "auto",
    pretokenized: bool = False,
) -> CaptionScores:
    """BLEU-1..4, METEOR, ROUGE-1/2/L and CIDEr of predicted captions against reference captions.

    Args:
        predictions (`Mapping[str, str]`): one predicted caption per sample id.
        references (`Mapping[str, Sequence[str]]`): one or more reference captions per sample id (same ids).
        backend (`str`, *optional*, defaults to `"auto"`): ``"coco"`` (Java tokenizer and METEOR), ``"python"``
            (no Java) or ``"auto"`` (coco when Java is available).
        pretokenized (`bool`, *optional*, defaults to `False`): the texts are already PTB-tokenised (lowercase,
            space-separated, punctuation removed); skip tokenisation. Lets both backends be compared on identical
            tokens.

    Returns:
        [`CaptionScores`]: corpus and per-sample scores.

    Example:

    ```python
    >>> scores = compute_caption_metrics({"0": "A man raises his left arm."}, {"0": ["A man lifts his left arm."]})
    >>> sorted(scores.corpus)[:3]
    ['BLEU-1', 'BLEU-2', 'BLEU-3']
    ```
    """
    _validate(predictions, references)
    backend = resolve_backend(backend)
    keys = [str(key) for key in predictions]
    predictions = {str(k): v for k, v in predictions.items()}
    references = {str(k): list(v) for k, v in references.items()}
    if pretokenized:
        preds, refs = dict(predictions), {k: list(v) for k, v in references.items()}
    elif backend == "coco":
        preds, refs = _coco_tokenize(predictions, references)
    else:
        preds = {key: tokenize_caption(predictions[key]) for key in keys}
        refs = {key: [tokenize_caption(text) for text in references[key]] for key in keys}
    logger.info("Scoring %d captions with the %s backend", len(keys), backend)
    results = _library_scores(keys, preds, refs)
    if backend == "coco":
        results["METEOR"] = _java_meteor(keys, preds, refs)
        meteor_modules = ["exact", "stem", "synonym", "paraphrase"]
    else:
        synonyms = resolve_synonyms("auto")
        results["METEOR"] = meteor_corpus([preds[k] for k in keys], [refs[k] for k in keys], synonyms=synonyms)
        meteor_modules = ["exact", "stem"] + (["synonym"] if synonyms is not None else [])

    bleu_corpus, bleu_samples = results["BLEU"]
    rouge1 = [rouge_n(preds[key], refs[key], 1) for key in keys]
    rouge2 = [rouge_n(preds[key], refs[key], 2) for key in keys]
    corpus = {f"BLEU-{k + 1}": float(bleu_corpus[k]) for k in range(4)}
    corpus["METEOR"] = float(results["METEOR"][0])
    corpus["ROUGE-1"] = sum(rouge1) / len(rouge1)
    corpus["ROUGE-2"] = sum(rouge2) / len(rouge2)
    corpus["ROUGE-L"] = float(results["ROUGE-L"][0])
    corpus["CIDEr"] = float(results["CIDEr"][0])
    per_sample = {}
    for index, key in enumerate(keys):
        row = {f"BLEU-{k + 1}": float(bleu_samples[k][index]) for k in range(4)}
        row["METEOR"] = float(results["METEOR"][1][index])
        row["ROUGE-1"] = rouge1[index]
        row["ROUGE-2"] = rouge2[index]
        row["ROUGE-L"] = float(results["ROUGE-L"][1][index])
        row["CIDEr"] = float(results["CIDEr"][1][index])
        per_sample[key] = row
    return CaptionScores(
        corpus={name: corpus[name] for name in CAPTION_METRICS},
        per_sample=per_sample,
        backend=backend,
        meteor_modules=meteor_modules,
        tokenized_predictions=preds,
        tokenized_references=refs,
    )
