"""The `evaluate` module loads from its local folder, offline, and returns what `compute_caption_metrics` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from macm.evaluation.caption_metrics import CAPTION_METRICS, compute_caption_metrics

MODULE_DIR = Path(__file__).resolve().parents[2] / "evaluation" / "metrics" / "macm_caption_metrics"


@pytest.fixture
def metric(tmp_path, monkeypatch):
    evaluate = pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(evaluate.config, "HF_MODULES_CACHE", tmp_path / "modules")
    return evaluate.load(str(MODULE_DIR), cache_dir=str(tmp_path / "metrics"))


def test_module_loads_offline_and_matches_library(metric, caption_pairs):
    predictions = [p["prediction"] for p in caption_pairs]
    references = [p["references"] for p in caption_pairs]
    result = metric.compute(predictions=predictions, references=references, backend="python")
    direct = compute_caption_metrics(
        {str(i): p for i, p in enumerate(predictions)},
        {str(i): r for i, r in enumerate(references)},
        backend="python",
    )
    assert result == {**direct.corpus, "backend": "python"}
    assert set(CAPTION_METRICS) <= set(result)


def test_module_accepts_single_reference_strings_and_batches(metric):
    metric.add_batch(predictions=["a man raises his left arm"], references=["a man lifts his left arm"])
    metric.add(predictions="she jumps", references="she jumps high")
    batched = metric.compute(backend="python")
    direct = compute_caption_metrics(
        {"0": "a man raises his left arm", "1": "she jumps"},
        {"0": ["a man lifts his left arm"], "1": ["she jumps high"]},
        backend="python",
    )
    assert batched["CIDEr"] == direct.corpus["CIDEr"] and batched["BLEU-4"] == direct.corpus["BLEU-4"]


def test_module_file_has_no_top_level_project_import():
    """`evaluate.load` would turn `import macm` into the advice 'pip install macm' (an unrelated PyPI package)."""
    source = (MODULE_DIR / "macm_caption_metrics.py").read_text()
    assert "\nimport macm" not in source and "\nfrom macm" not in source
