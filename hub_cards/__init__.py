"""Publishing to the Hugging Face Hub: card templates (`templates/`), filled from real sources, and the push tooling.

Installed as ``macm.hub_cards``. `macm card model|dataset` writes a card; `macm push model|dataset|space` checks a
folder, uploads it as one commit and verifies the Hub's file list (see `cli`). The names below are imported on first
use, so `macm --help` does not pay for huggingface_hub and numpy.
"""

import importlib

_EXPORTS = {
    "CardError": ".checks",
    "PushRefused": ".plan",
    "PushResult": ".upload",
    "PushVerificationError": ".upload",
    "UploadPlan": ".plan",
    "forbidden_reason": ".forbidden",
    "plan_dataset": ".planners",
    "plan_model": ".planners",
    "plan_space": ".space_plan",
    "push_plan": ".upload",
    "render_dataset_card": ".cards",
    "render_model_card": ".cards",
    "render_space_card": ".cards",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
