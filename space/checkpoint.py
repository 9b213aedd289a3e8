"""Which M-ACM checkpoint the Space captions with, loaded once at import.

`MACM_MODEL` (a Hub id or a folder) when set, else the embedded SynthMotion checkpoint next to this file
(`synthmotion-tiny/`). A checkpoint that cannot be loaded is not fatal: the page says why and still runs the
motion pathway.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__:
    from .validation import alpha_text
else:  # run as the Space's files: siblings are top-level modules
    from validation import alpha_text

__all__ = ["EMBEDDED_MODEL", "LoadedModel", "current_model", "load_model", "resolve_model_source", "set_model"]

logger = logging.getLogger(__name__)

EMBEDDED_MODEL = Path(__file__).resolve().parent / "synthmotion-tiny"


@dataclass
class LoadedModel:
    """The captioner the page uses, and what to tell the user about it.

    Args:
        source (`str`, *optional*): the folder or Hub id; `None` when no checkpoint was found.
        embedded (`bool`): the embedded SynthMotion checkpoint (it knows only synthetic motions).
        model ([`MacmForConditionalGeneration`], *optional*): the loaded model.
        processor ([`MacmProcessor`], *optional*): its processor.
        error (`str`, *optional*): why loading failed.
    """

    source: str | None
    embedded: bool
    model: Any = None
    processor: Any = None
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.model is not None

    @property
    def name(self) -> str:
        """Short name for status lines and the JSON."""
        if self.source is None:
            return "none"
        return "synthmotion-tiny (embedded)" if self.embedded else str(self.source)

    @property
    def num_keyframes(self) -> int:
        """Keyframes the checkpoint was trained with (the processing default when no model is loaded)."""
        from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES

        return int(getattr(getattr(self.model, "config", None), "num_keyframes", DEFAULT_NUM_KEYFRAMES))

    def msd_defaults(self) -> dict:
        """MSD parameters from the checkpoint's config (else `MacmConfig`'s), as the page's option widgets take them."""
        from macm.modeling_macm import MacmConfig

        config = getattr(self.model, "config", None) or MacmConfig
        return {
            "alpha": alpha_text(config.msd_alpha),
            "beta": float(config.msd_beta),
            "theta": float(config.msd_theta),
            "synergy": str(config.msd_synergy),
        }

    def describe(self) -> str:
        """One Markdown paragraph naming the model (shown on the page and written into the JSON)."""
        if self.source is None:
            return (
                "**No captioning model.** The embedded SynthMotion checkpoint (`space/synthmotion-tiny/`) is not "
                "there and `MACM_MODEL` is not set, so only the motion pathway runs. Set `MACM_MODEL` to an M-ACM "
                "checkpoint (a folder or Hub id) and restart."
            )
        if not self.ready:
            return f"**Model `{self.source}` could not be loaded** ({self.error}); only the motion pathway runs."
        if self.embedded:
            return (
                "**Model:** `synthmotion-tiny`, the embedded M-ACM checkpoint. It was trained only on SynthMotion, "
                "short clips of a synthetic humanoid, and **knows only those synthetic motions**: on real videos "
                "its captions are not meaningful (how well it does on SynthMotion: its card, "
                "`synthmotion-tiny/README.md`). Set `MACM_MODEL` to use another checkpoint."
            )
        return f"**Model:** `{self.source}` (from `MACM_MODEL`)."


def resolve_model_source(
    env: Mapping[str, str] | None = None, embedded: Path = EMBEDDED_MODEL
) -> tuple[str | None, bool]:
    """`(source, is_embedded)`: `MACM_MODEL` when set, else the embedded checkpoint when present, else `(None, False)`."""
    env = os.environ if env is None else env
    source = (env.get("MACM_MODEL") or "").strip()
    if source:
        return source, False
    if (embedded / "config.json").is_file():
        return str(embedded), True
    return None, False


def load_model(source: str | None = None) -> LoadedModel:
    """Load the captioner from `source`, else from `resolve_model_source()`; failures are reported, not raised."""
    embedded = False
    if source is None:
        source, embedded = resolve_model_source()
    if source is None:
        logger.warning("No M-ACM checkpoint: %s does not exist and MACM_MODEL is not set", EMBEDDED_MODEL)
        return LoadedModel(source=None, embedded=False)
    embedded = embedded or Path(source).resolve() == EMBEDDED_MODEL
    try:
        import torch

        from macm.processing.caption import load_captioner

        model, processor = load_captioner(source)
        if torch.cuda.is_available():  # on ZeroGPU, CUDA is emulated at import time
            model = model.to("cuda")
    except Exception as exc:  # a bad id, missing files, no network: the page says so
        logger.warning("Could not load the M-ACM checkpoint %s: %s: %s", source, type(exc).__name__, exc)
        return LoadedModel(source=str(source), embedded=embedded, error=f"{type(exc).__name__}: {exc}")
    logger.info("M-ACM checkpoint %s loaded on %s", source, model.device)
    return LoadedModel(source=str(source), embedded=embedded, model=model, processor=processor)


_MODEL: LoadedModel = load_model()


def current_model() -> LoadedModel:
    return _MODEL


def set_model(source: str | None) -> LoadedModel:
    """Replace the loaded model (`None`: back to `MACM_MODEL` / the embedded checkpoint)."""
    global _MODEL
    _MODEL = load_model(source)
    return _MODEL
