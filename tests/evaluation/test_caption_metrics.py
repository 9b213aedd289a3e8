"""Caption metrics: the no-Java backend against pycocoevalcap on the fixed caption pairs, the numbers of the earlier
hand-written scorers kept, and hand-computed cases."""

from __future__ import annotations

import json
import math
import os
import subprocess
import threading
from pathlib import Path

import pytest
from evaluation_helpers import requires_coco

from macm.evaluation import caption_metrics
from macm.evaluation.caption_metrics import CAPTION_METRICS, compute_caption_metrics, resolve_backend, rouge_n
from macm.evaluation.meteor import meteor_corpus

PREVIOUS_SCORES = Path(__file__).parent / "data" / "previous_python_scores.json"

EXACT_METRICS = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L", "CIDEr")
# Measured on tests/evaluation/data/caption_pairs.json (63 pairs): Java METEOR 1.5 (exact, stem, synonym, paraphrase)
# 0.3922; pure Python with exact, stem and synonym 0.3856 (gap -0.0067, mean |segment gap| 0.017); with exact and
# stem only 0.3623 (gap -0.030). The bounds leave room, not a different result.
METEOR_CORPUS_GAP_BOUND = 0.015
METEOR_NO_SYNONYM_GAP_BOUND = 0.05


def _inputs(pairs):
    return {p["id"]: p["prediction"] for p in pairs}, {p["id"]: p["references"] for p in pairs}


def test_fixture_is_large_and_varied(caption_pairs):
    assert len(caption_pairs) >= 50
    assert sum(len(p["references"]) > 1 for p in caption_pairs) >= 10
    lengths = [len(p["prediction"].split()) for p in caption_pairs]
    assert min(lengths) <= 1 and max(lengths) >= 40


@requires_coco
def test_tokenizer_equals_java_ptb_on_fixture(caption_pairs, coco_scores):
    predictions, references = _inputs(caption_pairs)
    python = compute_caption_metrics(predictions, references, backend="python")
    for key in predictions:
        assert python.tokenized_predictions[key] == coco_scores.tokenized_predictions[key], key
        assert python.tokenized_references[key] == coco_scores.tokenized_references[key], key


def test_library_scorers_give_the_numbers_of_the_earlier_hand_written_ones(caption_pairs):
    """BLEU, ROUGE-L and CIDEr were re-implemented here before pycocoevalcap's scorers replaced them; the file holds
    what that code gave on the fixture (no-Java backend), per sample and for the corpus."""
    previous = json.loads(PREVIOUS_SCORES.read_text(encoding="utf-8"))
    scores = compute_caption_metrics(*_inputs(caption_pairs), backend="python")
    assert set(scores.per_sample) == set(previous["per_sample"])
    for name, value in previous["corpus"].items():
        assert scores.corpus[name] == pytest.approx(value, abs=1e-12, rel=0), name
    for key, row in previous["per_sample"].items():
        for name, value in row.items():
            assert scores.per_sample[key][name] == pytest.approx(value, abs=1e-12, rel=0), (key, name)


@requires_coco
def test_python_backend_end_to_end_equals_pycocoevalcap(caption_pairs, coco_scores, record_property):
    """Raw text in, both pipelines (tokenizer + metrics): BLEU, ROUGE and CIDEr agree to 1e-6."""
    predictions, references = _inputs(caption_pairs)
    python = compute_caption_metrics(predictions, references, backend="python")
    assert python.backend == "python" and coco_scores.backend == "coco"
    for name in EXACT_METRICS:
        difference = abs(python.corpus[name] - coco_scores.corpus[name])
        record_property(f"abs_diff_{name}", difference)
        assert difference <= 1e-6, (name, python.corpus[name], coco_scores.corpus[name])
    gap = python.corpus["METEOR"] - coco_scores.corpus["METEOR"]
    per_sample_gap = [python.per_sample[k]["METEOR"] - coco_scores.per_sample[k]["METEOR"] for k in predictions]
    mean_abs = sum(abs(g) for g in per_sample_gap) / len(per_sample_gap)
    record_property("meteor_java", coco_scores.corpus["METEOR"])
    record_property("meteor_python", python.corpus["METEOR"])
    record_property("meteor_corpus_gap", gap)
    record_property("meteor_mean_abs_segment_gap", mean_abs)
    print(
        f"\nMETEOR on {len(predictions)} pairs: Java 1.5 {coco_scores.corpus['METEOR']:.4f}, "
        f"pure Python {python.corpus['METEOR']:.4f}, corpus gap {gap:+.4f}, mean |segment gap| {mean_abs:.4f}"
    )
    assert python.meteor_modules == ["exact", "stem", "synonym"]
    assert abs(gap) < METEOR_CORPUS_GAP_BOUND
    assert mean_abs < 0.03

    keys = list(predictions)
    no_synonyms, _ = meteor_corpus(
        [coco_scores.tokenized_predictions[k] for k in keys],
        [coco_scores.tokenized_references[k] for k in keys],
        synonyms=False,
    )
    record_property("meteor_python_without_synonyms", no_synonyms)
    print(
        f"METEOR without the synonym module: {no_synonyms:.4f} (gap {no_synonyms - coco_scores.corpus['METEOR']:+.4f})"
    )
    assert abs(no_synonyms - coco_scores.corpus["METEOR"]) < METEOR_NO_SYNONYM_GAP_BOUND


@requires_coco
def test_meteor_formula_and_alignment_match_java_with_exact_and_stem_modules(coco_scores):
    """Java METEOR restricted to the modules the approximation has: nearly every segment is identical."""
    from pycocoevalcap.meteor import meteor as coco_meteor

    class ExactStemMeteor(coco_meteor.Meteor):
        def __init__(self):
            jar_dir = os.path.dirname(os.path.abspath(coco_meteor.__file__))
            command = ["java", "-jar", "-Xmx2G", coco_meteor.METEOR_JAR, "-", "-", "-stdio", "-l", "en", "-norm"]
            self.meteor_p = subprocess.Popen(
                [*command, "-m", "exact stem"],
                cwd=jar_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            self.lock = threading.Lock()

    gts = coco_scores.tokenized_references
    res = {key: [text] for key, text in coco_scores.tokenized_predictions.items()}
    java_corpus, java_segments = ExactStemMeteor().compute_score(gts, res)
    keys = list(gts)
    python_corpus, python_segments = meteor_corpus(
        [coco_scores.tokenized_predictions[k] for k in keys], [gts[k] for k in keys], synonyms=False
    )
    equal = sum(math.isclose(j, p, abs_tol=1e-9) for j, p in zip(java_segments, python_segments, strict=True))
    print(
        f"\nMETEOR exact+stem: Java {java_corpus:.6f}, Python {python_corpus:.6f}, equal segments {equal}/{len(gts)}"
    )
    assert equal >= len(gts) - 2  # measured: 62/63 (Java's beam misses one stem match the search here finds)
    assert python_corpus == pytest.approx(java_corpus, abs=1e-3)


def _scores(predictions: list[str], references: list[list[str]]):
    """Scores of already tokenised captions, keyed by position."""
    keys = [str(i) for i in range(len(predictions))]
    return compute_caption_metrics(
        dict(zip(keys, predictions, strict=True)),
        dict(zip(keys, references, strict=True)),
        backend="python",
        pretokenized=True,
    )


def test_bleu_by_hand():
    # "a b" against "a b c d": all n-grams present, brevity penalty exp(1 - 4/2).
    scores = _scores(["a b"], [["a b c d"]])
    assert scores.corpus["BLEU-1"] == pytest.approx(math.exp(-1.0), rel=1e-9)
    assert scores.corpus["BLEU-2"] == pytest.approx(math.exp(-1.0), rel=1e-8)  # the 1e-9 smoothing of denominators
    # No trigram to guess: p3 = (0 + 1e-15) / (0 + 1e-9), so BLEU-3 = e^-1 * (1 * 1 * 1e-6) ** (1/3), not 0.
    assert scores.corpus["BLEU-3"] == pytest.approx(math.exp(-1.0) * 1e-6 ** (1 / 3), rel=1e-6)
    assert scores.per_sample["0"]["BLEU-1"] == pytest.approx(math.exp(-1.0), rel=1e-9)
    # "closest" reference length: 3 is closer to 3 than 6 is, so no brevity penalty.
    assert _scores(["x y z"], [["x y z w v u", "x y z"]]).corpus["BLEU-1"] == pytest.approx(1.0, abs=1e-8)


def test_rouge_by_hand():
    # LCS("a b c d", "a c d e f") = 3: P = 3/4, R = 3/5, beta = 1.2.
    expected = (1 + 1.44) * 0.75 * 0.6 / (0.6 + 1.44 * 0.75)
    assert _scores(["a b c d"], [["a c d e f"]]).corpus["ROUGE-L"] == pytest.approx(expected, rel=1e-12)
    # Best precision and best recall may come from different references.
    best_of_each = (2.44 * 1.0 * 0.5) / (0.5 + 1.44 * 1.0)
    assert _scores(["a b"], [["a b c d", "a x"]]).corpus["ROUGE-L"] == pytest.approx(best_of_each)
    assert _scores([""], [["a b"]]).corpus["ROUGE-L"] == 0.0
    # ROUGE-1 F1: overlap 2 of 3 predicted and 2 of 4 reference unigrams; ROUGE-2: one shared bigram "a b".
    assert rouge_n("a b e", ["a b c d"], 1) == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert rouge_n("a b e", ["a b c d"], 2) == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert rouge_n("a b e", ["x y", "a b e"], 2) == 1.0


def test_cider_properties():
    predictions = ["a man raises his arm", "a woman jumps", "a dog runs"]
    references = [["a man raises his arm"], ["a woman jumps high"], ["a cat sleeps"]]
    scores = _scores(predictions, references)
    per_sample = [scores.per_sample[str(i)]["CIDEr"] for i in range(3)]
    assert scores.corpus["CIDEr"] == pytest.approx(sum(per_sample) / 3)
    assert per_sample[0] > per_sample[1] > per_sample[2]
    assert per_sample[0] == pytest.approx(10.0)  # identical caption: cosine 1 for every n, no length penalty, x10
    # idf comes from the references of the scored set: adding a sample changes the other scores.
    more = _scores([*predictions, "a man sits"], [*references, ["a man sits down"]])
    assert more.per_sample["1"]["CIDEr"] != per_sample[1]


def test_backend_resolution(monkeypatch):
    with pytest.raises(ValueError, match="backend must be"):
        resolve_backend("java")
    monkeypatch.setattr(caption_metrics.shutil, "which", lambda name: None)
    assert resolve_backend("auto") == "python"
    with pytest.raises(RuntimeError, match="needs `java`"):
        resolve_backend("coco")
    scores = compute_caption_metrics({"0": "A man waves."}, {"0": ["A man waves his hand."]}, backend="auto")
    assert scores.backend == "python"
    assert list(scores.corpus) == list(CAPTION_METRICS)
    monkeypatch.setattr(caption_metrics.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="need the `pycocoevalcap` package"):
        resolve_backend("python")


def test_input_validation():
    with pytest.raises(ValueError, match="same ids"):
        compute_caption_metrics({"a": "x"}, {"b": ["x"]}, backend="python")
    with pytest.raises(ValueError, match=r"references\['a'\] must be a non-empty list"):
        compute_caption_metrics({"a": "x"}, {"a": []}, backend="python")
    with pytest.raises(ValueError, match=r"references\['a'\] must be a non-empty list"):
        compute_caption_metrics({"a": "x"}, {"a": "x y"}, backend="python")
    with pytest.raises(ValueError, match="empty"):
        compute_caption_metrics({}, {}, backend="python")
