"""`evaluate` metric: HMI-Bench caption metrics (BLEU-1..4, METEOR, ROUGE-1/2/L, CIDEr) as pycocoevalcap computes them.

Load it from this folder, offline:

```python
>>> import evaluate
>>> metric = evaluate.load("evaluation/metrics/macm_caption_metrics")
>>> metric.compute(predictions=["a man raises his left arm"], references=[["a man lifts his left arm"]], backend="python")
{'BLEU-1': ..., 'BLEU-4': ..., 'METEOR': ..., 'ROUGE-L': ..., 'CIDEr': ..., 'backend': 'python'}
```

This file is a thin adapter over ``macm.evaluation.caption_metrics``: the one implementation that the tests check
against pycocoevalcap. A copy of that code here would have to be kept equal to it by hand and could drift silently;
so the module imports it, and says how to install it when it is missing. (The import goes through `importlib`
because `evaluate.load` turns every top-level ``import x`` into the advice ``pip install x``, and the PyPI name
``macm`` is not this project.)
"""

import importlib

import datasets
import evaluate

_DESCRIPTION = """\
Caption metrics of the M-ACM HMI-Bench evaluation: corpus BLEU-1..4 (pycocoevalcap's "closest" reference length),
METEOR (Java METEOR 1.5 with backend="coco"; a pure-Python re-implementation without paraphrases with
backend="python"),
ROUGE-1/2 (n-gram F1, best reference, mean over samples), ROUGE-L (pycocoevalcap, beta=1.2) and CIDEr
(pycocoevalcap's CIDEr-D: sigma=6, idf over the scored references, x10). Text is PTB-tokenised first.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (`list[str]`): one predicted caption per sample.
    references (`list[list[str]]` or `list[str]`): one or more reference captions per sample.
    backend (`str`, *optional*, defaults to `"auto"`): "coco" (pycocoevalcap, needs Java), "python" or "auto".
Returns:
    `dict`: "BLEU-1".."BLEU-4", "METEOR", "ROUGE-1", "ROUGE-2", "ROUGE-L", "CIDEr" (floats) and "backend".
"""

_CITATION = """\
@inproceedings{song2025macm,
  title={Towards Fine-Grained Human Motion Video Captioning},
  author={Song, Guorui and Wang, Guocun and Huang, Zhe and Lin, Jing and Zhe, Xuefei and Li, Jian and Wang, Haoqian},
  booktitle={Proceedings of the 33rd ACM International Conference on Multimedia},
  year={2025}
}
"""


def _caption_metrics_module():
    try:
        return importlib.import_module("macm.evaluation.caption_metrics")
    except ImportError as error:
        raise ImportError(
            "macm_caption_metrics computes its scores with the M-ACM package (`macm.evaluation.caption_metrics`), "
            "which is not importable here. Install the M-ACM repository (`pip install -e <path to the M-ACM "
            "repository>`); note that the unrelated PyPI package named `macm` is not it."
        ) from error


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MacmCaptionMetrics(evaluate.Metric):
    """HMI-Bench caption metrics; see the module docstring."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": datasets.Sequence(datasets.Value("string")),
                    }
                ),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            codebase_urls=["https://github.com/salaniz/pycocoevalcap"],
            reference_urls=["https://arxiv.org/abs/2510.24767"],
        )

    def _compute(self, predictions, references, backend="auto"):
        module = _caption_metrics_module()
        if len(predictions) != len(references):
            raise ValueError(f"predictions and references differ in length: {len(predictions)} != {len(references)}")
        refs = {str(i): [r] if isinstance(r, str) else list(r) for i, r in enumerate(references)}
        preds = {str(i): p for i, p in enumerate(predictions)}
        scores = module.compute_caption_metrics(preds, refs, backend=backend)
        return {**scores.corpus, "backend": scores.backend}
