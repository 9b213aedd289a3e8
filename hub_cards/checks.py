"""Local checks of card metadata (the Hub's own validator needs the network): every problem is named, with the fix."""

from __future__ import annotations

import re
from collections.abc import Iterable

from huggingface_hub import DatasetCard, ModelCard, SpaceCard

from .dataset_facts import config_patterns, matching_files

__all__ = [
    "CardError",
    "dataset_card_problems",
    "model_card_problems",
    "raise_for_problems",
    "space_card_problems",
    "trained_from_scratch",
]

# repo ids as the Hub accepts them: "name" or "owner/name" (a local path is not a base model or dataset id)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


class CardError(ValueError):
    """A card lacks required metadata or contradicts the folder; the message lists every problem (`problems`)."""

    def __init__(self, what: str, problems: list[str]):
        super().__init__(f"{what}:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def raise_for_problems(problems: list[str], what: str) -> None:
    if problems:
        raise CardError(what, problems)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _check_ids(data: dict, field: str, flag: str, problems: list[str], required: bool = True) -> None:
    values = _as_list(data.get(field))
    if not values:
        if required:
            problems.append(f"`{field}` is missing (give {flag})")
        return
    bad = [v for v in values if not isinstance(v, str) or not _REPO_ID.match(v)]
    if bad:
        problems.append(f"`{field}` must hold Hub repo ids like 'owner/name', got {bad}")


def _check_license(data: dict, problems: list[str]) -> None:
    if not data.get("license"):
        problems.append("`license` is missing (give --license, e.g. apache-2.0, or `other` with a licence link)")


def trained_from_scratch(text: str) -> bool:
    """Whether a card's text says the model was trained from scratch (random weights): such a model has no
    `base_model`."""
    return re.search(r"\b(trained|training)\b[^.\n]*\bfrom (scratch|random weights)\b", text, flags=re.I) is not None


def model_card_problems(card: ModelCard) -> list[str]:
    """What an M-ACM model card's YAML lacks: `library_name: transformers`, `pipeline_tag: video-text-to-text`,
    `license`, `base_model` (unless the card says the model was trained from scratch), `datasets` and `tags`."""
    data = card.data.to_dict()
    problems = []
    if data.get("library_name") != "transformers":
        problems.append(f"`library_name` must be 'transformers', got {data.get('library_name')!r}")
    if data.get("pipeline_tag") != "video-text-to-text":
        problems.append(f"`pipeline_tag` must be 'video-text-to-text', got {data.get('pipeline_tag')!r}")
    _check_license(data, problems)
    _check_ids(data, "base_model", "--base-model", problems, required=not trained_from_scratch(card.text))
    _check_ids(data, "datasets", "--dataset", problems)
    if not _as_list(data.get("tags")):
        problems.append("`tags` is missing")
    return problems


def dataset_card_problems(card: DatasetCard, files: Iterable[str]) -> list[str]:
    """What a dataset card's YAML lacks, and every `configs` data file pattern that selects none of `files`."""
    data = card.data.to_dict()
    files = sorted(files)
    problems = []
    _check_license(data, problems)
    configs = data.get("configs")
    if not configs:
        return problems + [
            "`configs` is missing: name the data files per split (configs: - config_name: default, data_files: ...)"
        ]
    try:
        patterns = config_patterns(configs)
    except ValueError as error:
        return problems + [f"`configs`: {error}"]
    for config, split, pattern in patterns:
        if not matching_files(pattern, files):
            problems.append(f"config {config!r}, split {split!r}: data file {pattern!r} matches no file in the folder")
    return problems


def space_card_problems(card: SpaceCard, files: Iterable[str]) -> list[str]:
    """What a Gradio Space README's front matter lacks: `title`, `sdk: gradio`, `sdk_version`, an `app_file` that is
    in `files`, and the `models` it uses."""
    data = card.data.to_dict()
    files = set(files)
    problems = []
    if not data.get("title"):
        problems.append("`title` is missing")
    if data.get("sdk") != "gradio":
        problems.append(f"`sdk` must be 'gradio', got {data.get('sdk')!r}")
    if not data.get("sdk_version"):
        problems.append("`sdk_version` is missing (the Gradio version the app is tested with)")
    app_file = data.get("app_file")
    if not app_file:
        problems.append("`app_file` is missing")
    elif app_file not in files:
        problems.append(f"`app_file` {app_file!r} is not in the folder")
    _check_ids(data, "models", "--model-id", problems)
    return problems
