"""Which parts of M-ACM train: the paper freezes the vision tower and trains both projectors and the LLM."""

from __future__ import annotations

import logging

__all__ = ["apply_freezing", "trainable_summary"]

logger = logging.getLogger(__name__)


def apply_freezing(
    model,
    vision_tower: bool = True,
    projectors: bool = False,
    language_model: bool = False,
    motion_encoder: bool = False,
) -> dict[str, int]:
    """Freeze the named parts (`True` = frozen). Returns trainable parameter counts per part (the joints motion
    encoder, when the model has one, counts as `motion_encoder`)."""
    parts = {
        "vision_tower": (model.model.vision_tower, vision_tower),
        "projectors": (None, projectors),
        "language_model": (model.model.language_model, language_model),
    }
    for name, (module, frozen) in parts.items():
        if name == "projectors":
            for projector in (model.model.multi_modal_projector, model.model.motion_projector):
                projector.requires_grad_(not frozen)
            model.model.image_newline.requires_grad_(not frozen)
        else:
            module.requires_grad_(not frozen)
    if model.model.motion_encoder is not None:
        model.model.motion_encoder.requires_grad_(not motion_encoder)
    model.lm_head.requires_grad_(not language_model)
    summary = trainable_summary(model)
    logger.info("Trainable parameters: %s", summary)
    return summary


def trainable_summary(model) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            part = name.split(".")[1] if name.startswith("model.") else name.split(".")[0]
            counts[part] = counts.get(part, 0) + parameter.numel()
    return counts
