"""Caption metrics for HMI-Bench: BLEU-1..4, METEOR, ROUGE-1/2/L and CIDEr, with pycocoevalcap as the reference.

Two backends compute the same numbers:

- ``"coco"``: pycocoevalcap itself (Java PTB tokenizer, Java METEOR 1.5). The reference the paper's table was
  computed with; needs ``java`` on the PATH and the ``pycocoevalcap`` package.
- ``"python"``: pure Python. `ptb_tokenizer` mimics the Java tokenizer; BLEU, ROUGE-L and CIDEr below repeat
  pycocoevalcap's arithmetic step for step (equal to 1e-6 on the test fixture); METEOR is the re-implementation in
  `meteor` (exact, stem and, when pycocoevalcap's jar is installed to read WordNet from, synonym matching; no
  paraphrases), reported with its measured gap.

``"auto"`` picks ``"coco"`` when Java and pycocoevalcap are present, else ``"python"``.

ROUGE-1 and ROUGE-2 are not part of pycocoevalcap; both backends compute them in Python on the backend's tokens:
per sample the n-gram F1 (beta = 1, clipped n-gram counts, Lin 2004) against each reference, the best reference
kept, then the mean over samples (the definition of Google's ``rouge-score`` with several references).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import shutil
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .meteor import meteor_corpus, resolve_synonyms
from .ptb_tokenizer import tokenize_caption

__all__ = [
    "CAPTION_METRICS",
    "CaptionScores",
    "bleu",
    "cider_d",
    "compute_caption_metrics",
    "resolve_backend",
    "rouge_l",
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
# BLEU (pycocoevalcap bleu_scorer.py, "closest" reference length)
# ----------------------------------------------------------------------------------------------------------------


def _ngram_counts(words: Sequence[str], n: int) -> Counter:
    counts: Counter = Counter()
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i : i + k])] += 1
    return counts


def bleu(
    predictions: Sequence[str], references: Sequence[Sequence[str]], n: int = 4
) -> tuple[list[float], list[list[float]]]:
    """Corpus BLEU-1..n exactly as pycocoevalcap's `Bleu` computes it, on whitespace-tokenised text.

    The effective reference length of a sample is the reference length closest to the hypothesis length (ties: the
    shorter); n-gram precisions are clipped by the maximum count over references and smoothed with ``1e-15`` /
    ``1e-9`` as in ``bleu_scorer.py``; the brevity penalty uses the summed lengths.

    Returns:
        `tuple[list[float], list[list[float]]]`: the corpus BLEU-1..n and, for each k, the per-sample BLEU-k.
    """
    small, tiny = 1e-9, 1e-15
    total_guess, total_correct = [0] * n, [0] * n
    total_test_len, total_ref_len = 0, 0
    per_sample: list[list[float]] = [[] for _ in range(n)]
    for prediction, refs in zip(predictions, references, strict=True):
        max_counts: dict[tuple[str, ...], int] = {}
        ref_lengths = []
        for ref in refs:
            ref_words = ref.split()
            ref_lengths.append(len(ref_words))
            for ngram, count in _ngram_counts(ref_words, n).items():
                max_counts[ngram] = max(max_counts.get(ngram, 0), count)
        words = prediction.split()
        test_len = len(words)
        ref_len = min((abs(length - test_len), length) for length in ref_lengths)[1]
        guess = [max(0, test_len - k + 1) for k in range(1, n + 1)]
        correct = [0] * n
        for ngram, count in _ngram_counts(words, n).items():
            correct[len(ngram) - 1] += min(max_counts.get(ngram, 0), count)
        total_test_len += test_len
        total_ref_len += ref_len
        score = 1.0
        for k in range(n):
            total_guess[k] += guess[k]
            total_correct[k] += correct[k]
            score *= (float(correct[k]) + tiny) / (float(guess[k]) + small)
            per_sample[k].append(score ** (1.0 / (k + 1)))
        ratio = (test_len + tiny) / (ref_len + small)
        if ratio < 1:
            for k in range(n):
                per_sample[k][-1] *= math.exp(1 - 1 / ratio)
    corpus = []
    score = 1.0
    for k in range(n):
        score *= float(total_correct[k] + tiny) / (total_guess[k] + small)
        corpus.append(score ** (1.0 / (k + 1)))
    ratio = (total_test_len + tiny) / (total_ref_len + small)
    if ratio < 1:
        corpus = [value * math.exp(1 - 1 / ratio) for value in corpus]
    return corpus, per_sample


# ----------------------------------------------------------------------------------------------------------------
# ROUGE
# ----------------------------------------------------------------------------------------------------------------


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            current[j] = previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1])
        previous = current
    return previous[-1]


def rouge_l(prediction: str, references: Sequence[str], beta: float = 1.2) -> float:
    """pycocoevalcap's ROUGE-L of one sample: LCS F-measure with ``beta = 1.2`` from the best precision and recall.

    Tokens are ``text.split(" ")`` as in pycocoevalcap (so an empty caption is one empty token).
    """
    candidate = prediction.split(" ")
    precisions, recalls = [], []
    for reference in references:
        ref_tokens = reference.split(" ")
        lcs = _lcs_length(ref_tokens, candidate)
        precisions.append(lcs / float(len(candidate)))
        recalls.append(lcs / float(len(ref_tokens)))
    prec_max, rec_max = max(precisions), max(recalls)
    if prec_max != 0 and rec_max != 0:
        return ((1 + beta**2) * prec_max * rec_max) / float(rec_max + beta**2 * prec_max)
    return 0.0


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
# CIDEr-D (pycocoevalcap cider_scorer.py)
# ----------------------------------------------------------------------------------------------------------------


def cider_d(
    predictions: Sequence[str], references: Sequence[Sequence[str]], n: int = 4, sigma: float = 6.0
) -> tuple[float, list[float]]:
    """pycocoevalcap's CIDEr (the CIDEr-D variant): tf-idf n-gram cosine with clipping and a length penalty, x10.

    The document frequencies come from the references of the samples being scored (so a score depends on the
    whole set, as in pycocoevalcap); ``idf = log(#samples) - log(max(1, df))``; per n the clipped cosine is
    multiplied by ``exp(-(len_hyp - len_ref)**2 / (2 sigma**2))``, averaged over n = 1..4 and over references.

    Returns:
        `tuple[float, list[float]]`: the corpus mean and the per-sample scores.
    """
    crefs = [[_ngram_counts(ref.split(), n) for ref in refs] for refs in references]
    ctest = [_ngram_counts(prediction.split(), n) for prediction in predictions]
    document_frequency: defaultdict[tuple[str, ...], float] = defaultdict(float)
    for refs in crefs:
        for ngram in {ngram for ref in refs for ngram in ref}:
            document_frequency[ngram] += 1
    ref_len = math.log(float(len(crefs))) if crefs else 0.0

    def counts_to_vec(counts: Counter) -> tuple[list[dict], list[float], int]:
        vec: list[dict] = [{} for _ in range(n)]
        norm = [0.0] * n
        length = 0
        for ngram, term_freq in counts.items():
            df = math.log(max(1.0, document_frequency.get(ngram, 0.0)))
            k = len(ngram) - 1
            vec[k][ngram] = float(term_freq) * (ref_len - df)
            norm[k] += vec[k][ngram] ** 2
            if k == 1:
                length += term_freq  # pycocoevalcap counts bigrams here: its "length" is #bigrams
        return vec, [math.sqrt(value) for value in norm], length

    def sim(vec_hyp, vec_ref, norm_hyp, norm_ref, length_hyp, length_ref) -> list[float]:
        delta = float(length_hyp - length_ref)
        values = [0.0] * n
        for k in range(n):
            for ngram in vec_hyp[k]:
                ref_value = vec_ref[k].get(ngram, 0.0)
                values[k] += min(vec_hyp[k][ngram], ref_value) * ref_value
            if norm_hyp[k] != 0 and norm_ref[k] != 0:
                values[k] /= norm_hyp[k] * norm_ref[k]
            values[k] *= math.e ** (-(delta**2) / (2 * sigma**2))
        return values

    scores = []
    for test, refs in zip(ctest, crefs, strict=True):
        vec, norm, length = counts_to_vec(test)
        total = [0.0] * n
        for ref in refs:
            vec_ref, norm_ref, length_ref = counts_to_vec(ref)
            total = [a + b for a, b in zip(total, sim(vec, vec_ref, norm, norm_ref, length, length_ref), strict=True)]
        scores.append(sum(total) / n / len(refs) * 10.0)
    return (sum(scores) / len(scores) if scores else 0.0), scores


# ----------------------------------------------------------------------------------------------------------------
# Backends
# ----------------------------------------------------------------------------------------------------------------


def resolve_backend(backend: str = "auto") -> str:
    """``"coco"`` or ``"python"`` for a requested backend; ``"coco"`` needs ``java`` and pycocoevalcap."""
    if backend not in ("auto", "coco", "python"):
        raise ValueError(f"backend must be 'auto', 'coco' or 'python', got {backend!r}")
    coco_available = shutil.which("java") is not None and importlib.util.find_spec("pycocoevalcap") is not None
    if backend == "coco" and not coco_available:
        raise RuntimeError(
            "backend='coco' needs `java` on the PATH and the `pycocoevalcap` package; "
            f"java={shutil.which('java')!r}, pycocoevalcap installed="
            f"{importlib.util.find_spec('pycocoevalcap') is not None}. Use backend='python' instead."
        )
    if backend == "auto":
        return "coco" if coco_available else "python"
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


def _coco_scores(keys: list[str], preds: dict[str, str], refs: dict[str, list[str]]) -> dict[str, tuple]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge

    gts = {key: refs[key] for key in keys}
    res = {key: [preds[key]] for key in keys}
    bleu_corpus, bleu_samples = Bleu(4).compute_score(gts, res, verbose=0)
    meteor = Meteor()
    try:
        meteor_score, meteor_samples = meteor.compute_score(gts, res)
    finally:
        del meteor  # closes the Java process
    rouge_score, rouge_samples = Rouge().compute_score(gts, res)
    cider_score, cider_samples = Cider().compute_score(gts, res)
    return {
        "BLEU": ([float(v) for v in bleu_corpus], [[float(v) for v in k] for k in bleu_samples]),
        "METEOR": (float(meteor_score), [float(v) for v in meteor_samples]),
        "ROUGE-L": (float(rouge_score), [float(v) for v in rouge_samples]),
        "CIDEr": (float(cider_score), [float(v) for v in cider_samples]),
    }


def _python_scores(
    keys: list[str], preds: dict[str, str], refs: dict[str, list[str]], synonyms=None
) -> dict[str, tuple]:
    predictions = [preds[key] for key in keys]
    references = [refs[key] for key in keys]
    rouge_samples = [rouge_l(p, r) for p, r in zip(predictions, references, strict=True)]
    return {
        "BLEU": bleu(predictions, references),
        "METEOR": meteor_corpus(predictions, references, synonyms=synonyms),
        "ROUGE-L": (sum(rouge_samples) / len(rouge_samples), rouge_samples),
        "CIDEr": cider_d(predictions, references),
    }


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
        backend (`str`, *optional*, defaults to `"auto"`): ``"coco"`` (pycocoevalcap, needs Java), ``"python"``
            (pure Python) or ``"auto"`` (coco when Java is available).
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
    if backend == "coco":
        results = _coco_scores(keys, preds, refs)
        meteor_modules = ["exact", "stem", "synonym", "paraphrase"]
    else:
        synonyms = resolve_synonyms("auto")
        results = _python_scores(keys, preds, refs, synonyms)
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
