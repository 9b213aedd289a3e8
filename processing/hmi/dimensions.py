"""The five dimensions of human motion understanding that HMI's QA pairs and HMI-Bench's judge scores are sorted by."""

from __future__ import annotations

import re

__all__ = ["DIMENSIONS", "DIMENSION_TITLES", "canonical_dimension"]

DIMENSIONS: tuple[str, ...] = (
    "details_of_movements",
    "interaction_with_environment",
    "motivation_and_reason",
    "micro_expressions_and_emotions",
    "character_attributes",
)
DIMENSION_TITLES: dict[str, str] = {
    "details_of_movements": "Details of Movements",
    "interaction_with_environment": "Interaction with Environment",
    "motivation_and_reason": "Motivation and Reason",
    "micro_expressions_and_emotions": "Micro-expressions and Emotions",
    "character_attributes": "Character Attributes",
}
# Words that identify a dimension in a loosely formatted reply (matched against normalised keys / line prefixes).
_DIMENSION_ALIASES: dict[str, tuple[str, ...]] = {
    "details_of_movements": ("details_of_movement", "movement_details", "details", "movements", "movement"),
    "interaction_with_environment": ("interaction", "environment"),
    "motivation_and_reason": ("motivation", "reason"),
    "micro_expressions_and_emotions": ("micro", "expression", "emotion"),
    "character_attributes": ("character", "attribute"),
}


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


def canonical_dimension(key: str) -> str | None:
    """The `DIMENSIONS` entry a name refers to (``"Micro-expressions"`` -> ``micro_expressions_and_emotions``), or `None`."""
    key = _normalise_key(key)
    if key in DIMENSIONS:
        return key
    for dimension, aliases in _DIMENSION_ALIASES.items():
        if any(alias in key for alias in aliases):
            return dimension
    return None
