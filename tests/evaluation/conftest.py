"""Fixtures of the evaluation tests: the fixed caption pairs and pycocoevalcap's scores of them (computed once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluation_helpers import HAVE_COCO

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def caption_pairs() -> list[dict]:
    """The fixed caption pairs: ``[{"id", "prediction", "references"}]``."""
    return json.loads((DATA / "caption_pairs.json").read_text(encoding="utf-8"))["items"]


@pytest.fixture(scope="session")
def coco_scores(caption_pairs):
    """pycocoevalcap's scores of the fixture (one Java tokenizer run and one Java METEOR run per session)."""
    if not HAVE_COCO:
        pytest.skip("the pycocoevalcap reference needs `java` on the PATH and the pycocoevalcap package")
    from macm.evaluation.caption_metrics import compute_caption_metrics

    predictions = {item["id"]: item["prediction"] for item in caption_pairs}
    references = {item["id"]: item["references"] for item in caption_pairs}
    return compute_caption_metrics(predictions, references, backend="coco")
