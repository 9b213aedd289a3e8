"""Render the model card, the dataset card and the Space README from the templates in `templates/`, filled from real
sources, and check their metadata before anything is written."""

from __future__ import annotations

import platform
from collections import Counter
from importlib import metadata
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData, SpaceCard, SpaceCardData

from .checks import dataset_card_problems, model_card_problems, raise_for_problems, space_card_problems
from .dataset_facts import read_builder_report, read_dataset_facts, size_category
from .eval_report import evaluation_tables
from .model_facts import read_model_facts
from .training_run import read_training_run

__all__ = ["TEMPLATES", "framework_versions", "render_dataset_card", "render_model_card", "render_space_card"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
MODEL_TAGS = ("m-acm", "human-motion", "motion-captioning", "video-captioning", "custom_code")
DATASET_TAGS = ("human-motion", "motion-captioning", "m-acm", "hmi-format")
_VERSIONED = (
    "macm",
    "torch",
    "transformers",
    "huggingface_hub",
    "safetensors",
    "accelerate",
    "trl",
    "datasets",
    "peft",
)


def framework_versions() -> list[tuple[str, str]]:
    """`(name, version)` of Python and the installed frameworks (the environment that writes the card)."""
    versions = [("Python", platform.python_version())]
    for name in _VERSIONED:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return versions


def _count(n: int) -> str:
    for bound, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= bound:
            return f"{n / bound:.2f} {unit} ({n:,})"
    return f"{n:,}"


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def render_model_card(
    model_dir: str | Path,
    *,
    repo_id: str,
    base_model: str | None,
    datasets: list[str] | None,
    license: str = "apache-2.0",
    revision: str = "main",
    run_dir: str | Path | None = None,
    training_config: str | Path | None = None,
    eval_report: str | Path | None = None,
    tags: list[str] | None = None,
) -> ModelCard:
    """The model card of a saved M-ACM folder.

    Args:
        model_dir (`str` or `Path`): the folder (`config.json`, safetensors weights).
        repo_id (`str`): the Hub repo the card's quick start loads.
        base_model (`str`): Hub id of the checkpoint this one was converted or fine-tuned from.
        datasets (`list[str]`): Hub ids of the training data.
        license (`str`, *optional*, defaults to `"apache-2.0"`): licence id of the weights.
        revision (`str`, *optional*, defaults to `"main"`): the revision the quick start pins (a tag or commit).
        run_dir (`str` or `Path`, *optional*): the `trainer/sft_macm.py` output folder (`training_args.bin`,
            `checkpoint-N/trainer_state.json`).
        training_config (`str` or `Path`, *optional*): the YAML given to the training script with `--config`.
        eval_report (`str` or `Path`, *optional*): `macm eval`'s `report.json`.
        tags (`list[str]`, *optional*): tags added to the defaults.

    Raises:
        [`CardError`]: when the metadata lacks a required field (all missing fields are listed).
    """
    facts = read_model_facts(model_dir)
    datasets = _as_list(datasets)
    data = ModelCardData(
        library_name="transformers",
        pipeline_tag="video-text-to-text",
        license=license,
        base_model=base_model,
        datasets=datasets or None,
        language=["en"],
        tags=list(dict.fromkeys([*MODEL_TAGS, *(tags or [])])),
    )
    card = ModelCard.from_template(
        data,
        template_path=str(TEMPLATES / "model_card.md"),
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        revision=revision,
        parameters=[(name, _count(n)) for name, n in facts["parameters"].items()],
        training=read_training_run(run_dir, training_config),
        evaluation=evaluation_tables(eval_report, label=repo_id.split("/")[-1]),
        versions=framework_versions(),
        **{k: v for k, v in facts.items() if k not in ("config", "parameters")},
    )
    raise_for_problems(model_card_problems(card), f"the model card for {model_dir} is incomplete")
    return card


def render_dataset_card(
    dataset_dir: str | Path,
    *,
    repo_id: str,
    license: str,
    pretty_name: str | None = None,
    description: str | None = None,
    sources: dict[str, dict] | None = None,
    builder_report: str | Path | None = None,
    tags: list[str] | None = None,
) -> DatasetCard:
    """The card of an HMI-format dataset folder: `configs` from its split files, counts from its rows, curation
    criteria and stage counts from the builder's report.

    Args:
        dataset_dir (`str` or `Path`): the folder (`<split>/metadata.jsonl` and the files the rows reference).
        repo_id (`str`): the Hub repo the card's loading snippet names.
        license (`str`): licence id of the annotations and generated files.
        pretty_name (`str`, *optional*): the title; defaults to the repo name.
        description (`str`, *optional*): the opening paragraph.
        sources (`dict[str, dict]`, *optional*): per source name (the rows' `source`), `{"license", "url"}`;
            overrides the builder report's.
        builder_report (`str` or `Path`, *optional*): the builder's JSON report (see `read_builder_report`).
        tags (`list[str]`, *optional*): tags added to the defaults.

    Raises:
        [`CardError`]: when the metadata lacks a required field or `configs` do not match the files.
    """
    dataset_dir = Path(dataset_dir)
    facts = read_dataset_facts(dataset_dir)
    report = read_builder_report(builder_report)
    known = {s["name"]: s for s in (report or {}).get("sources", [])}
    known.update({name: {"name": name, **info} for name, info in (sources or {}).items()})
    clips = Counter(facts["sources"])
    source_rows = [
        {"name": name, "clips": clips.get(name, 0), "license": known.get(name, {}).get("license"),
         "url": known.get(name, {}).get("url")}
        for name in dict.fromkeys([*clips, *known])
    ]  # fmt: skip
    pretty_name = pretty_name or repo_id.split("/")[-1]
    data = DatasetCardData(
        license=license,
        language=["en"],
        task_categories=["video-text-to-text", "visual-question-answering"],
        size_categories=[size_category(facts["num_rows"])],
        pretty_name=pretty_name,
        tags=list(dict.fromkeys([*DATASET_TAGS, *(tags or [])])),
        configs=[
            {
                "config_name": "default",
                "data_files": [{"split": s["name"], "path": s["path"]} for s in facts["splits"]],
            }
        ],
    )
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "dataset_card.md"),
        repo_id=repo_id,
        pretty_name=pretty_name,
        description=description or f"{pretty_name}: human motion video clips with fine-grained captions and QA pairs.",
        splits=facts["splits"],
        num_rows=facts["num_rows"],
        num_qa=facts["num_qa"],
        num_videos=facts["num_videos"],
        fields=facts["fields"],
        qa_types=sorted(facts["qa_types"].items()),
        report=report,
        sources=source_rows,
    )
    files = [p.relative_to(dataset_dir).as_posix() for p in dataset_dir.rglob("*") if p.is_file()]
    raise_for_problems(dataset_card_problems(card, files), f"the dataset card for {dataset_dir} is incomplete")
    return card


def render_space_card(
    *,
    title: str,
    models: list[str],
    files: list[str],
    app_file: str = "app.py",
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
    sdk_version: str | None = None,
    embedded_model: str | None = None,
    requirements_note: str = "",
) -> SpaceCard:
    """The Space README: front matter (`sdk: gradio`, `sdk_version`, `app_file`, `models`, ...) and a short page.

    Args:
        title (`str`): the Space's title.
        models (`list[str]`): Hub ids of the checkpoints the app uses.
        files (`list[str]`): the files of the Space folder (to check `app_file`).
        app_file (`str`, *optional*, defaults to `"app.py"`): the Gradio script.
        license (`str`, *optional*, defaults to `"apache-2.0"`): the Space's licence.
        datasets (`list[str]`, *optional*): Hub ids of datasets the app shows.
        sdk_version (`str`, *optional*): the Gradio version; defaults to the installed one.
        embedded_model (`str`, *optional*): folder of a checkpoint shipped inside the Space.
        requirements_note (`str`, *optional*): where `requirements.txt` comes from (printed on the page).

    Raises:
        [`CardError`]: when the front matter lacks a required field.
    """
    if sdk_version is None:
        try:
            sdk_version = metadata.version("gradio")
        except metadata.PackageNotFoundError:
            sdk_version = None
    data = SpaceCardData(
        title=title,
        sdk="gradio",
        sdk_version=sdk_version,
        python_version=".".join(platform.python_version_tuple()[:2]),
        app_file=app_file,
        license=license,
        models=list(models) or None,
        datasets=list(datasets or []) or None,
        tags=["m-acm", "human-motion", "motion-captioning", "video-captioning"],
        emoji="🕺",
        colorFrom="indigo",
        colorTo="pink",
        pinned=False,
        short_description="Fine-grained human motion captions with a motion pathway",
    )
    card = SpaceCard.from_template(
        data,
        template_path=str(TEMPLATES / "space_readme.md"),
        title=title,
        app_modules=sorted(f for f in files if f.endswith(".py") and "/" not in f and f != app_file),
        has_examples=any(f.startswith("examples/") for f in files),
        models=list(models),
        app_file=app_file,
        embedded_model=embedded_model,
        macm_version=metadata.version("macm"),
        requirements_note=requirements_note,
    )
    raise_for_problems(space_card_problems(card, files), "the Space README is incomplete")
    return card
