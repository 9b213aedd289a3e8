"""`macm card` writes a model or dataset card from real sources; `macm push` publishes a model, dataset or Space.

```bash
macm card model runs/macm-7b --repo-id me/macm-7b --revision v1.0 --base-model llava-hf/llava-onevision-qwen2-7b-ov-hf \
    --dataset me/hmi --run-dir runs/macm-7b --training-config recipe.yaml --eval-report eval/report.json
macm push model runs/macm-7b --repo-id me/macm-7b --tag v1.0 --dry-run /tmp/macm-7b-upload   # look first
macm push model runs/macm-7b --repo-id me/macm-7b --tag v1.0
macm push dataset synthmotion/ --repo-id me/synthmotion
macm push space space/ --repo-id me/macm-demo --model-id me/macm-7b
```

`--dry-run OUT` writes exactly the folder that would be uploaded and touches no network. Refusals (no safetensors,
no `auto_map`, no or an incomplete card, a pickle or an SMPL file in the folder) exit with status 2 and list every
reason; a failed upload or a Hub file list that differs from the upload exits with status 3.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from macm.processing.cli_exit import EXIT_UNAVAILABLE, fail

__all__ = ["register", "run_card", "run_push"]

logger = logging.getLogger(__name__)


################
# macm push
################
def _add_push_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the folder to publish")
    parser.add_argument("--repo-id", required=True, help="the Hub repository, e.g. me/macm-7b")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", help="branch to commit to (created from main when missing; default main)")
    parser.add_argument("--tag", help="tag the pushed commit (e.g. the revision the model card's quick start pins)")
    parser.add_argument("--commit-message", help="commit message (default: names the kind and the file count)")
    parser.add_argument("--token", help="Hub token (default: HF_TOKEN or the cached login)")
    parser.add_argument(
        "--dry-run", type=Path, metavar="OUT", help="write the folder that would be uploaded to OUT; upload nothing"
    )


def register_push(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "push",
        help="publish a model, dataset or Space folder to the Hugging Face Hub",
        description="Check a folder, then upload it as one commit and verify the Hub's file list.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    model = kinds.add_parser("model", help="a saved M-ACM folder with its card (README.md)")
    _add_push_options(model)
    dataset = kinds.add_parser("dataset", help="a dataset folder with its card (README.md with `configs`)")
    _add_push_options(dataset)
    space = kinds.add_parser("space", help="the Gradio Space folder (space/)")
    _add_push_options(space)
    space.add_argument(
        "--model-id", action="append", default=[], help="Hub id of a checkpoint the app uses (front matter `models`)"
    )
    space.add_argument("--dataset-id", action="append", default=[], help="Hub id of a dataset to list")
    space.add_argument("--title", default=None, help="Space title (when the README is generated)")
    parser.set_defaults(func=run_push)
    return parser


def _plan(args: argparse.Namespace):
    from .planners import plan_dataset, plan_model
    from .space_plan import DEFAULT_TITLE, plan_space

    if args.kind == "model":
        return plan_model(args.path)
    if args.kind == "dataset":
        return plan_dataset(args.path)
    return plan_space(args.path, models=args.model_id, datasets=args.dataset_id, title=args.title or DEFAULT_TITLE)


def run_push(args: argparse.Namespace) -> int:
    """Runs `macm push KIND PATH`; returns the exit status."""
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError
    from huggingface_hub.utils import validate_repo_id

    from .plan import PushRefused
    from .upload import PushVerificationError, push_plan

    try:
        validate_repo_id(args.repo_id)
    except HFValidationError as error:
        return fail(f"--repo-id: {error}")
    try:
        plan = _plan(args)
    except PushRefused as error:
        return fail(str(error))
    if args.dry_run is not None:
        try:
            out = plan.write(args.dry_run)
        except FileExistsError as error:
            return fail(str(error))
        print(f"dry run: {plan.kind} for {args.repo_id}: {plan.summary()}\nwritten to {out} (nothing uploaded)")
        return 0
    try:
        result = push_plan(
            plan,
            args.repo_id,
            private=args.private,
            revision=args.revision,
            commit_message=args.commit_message,
            tag=args.tag,
            token=args.token,
        )
    except PushVerificationError as error:
        return fail(str(error), EXIT_UNAVAILABLE)
    except (HfHubHTTPError, OSError) as error:
        return fail(f"the upload to {args.repo_id} failed: {error}", EXIT_UNAVAILABLE)
    print(f"pushed {len(result.files)} files to {result.repo_type} {result.repo_id}: {result.commit_url}")
    if plan.kind == "model":
        print(
            f'load this exact commit: AutoModel.from_pretrained("{result.repo_id}", revision="{result.commit}", '
            "trust_remote_code=True)"
        )
    return 0


################
# macm card
################
def register_card(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "card",
        help="write the model or dataset card (README.md) of a folder from its config, run and reports",
        description="Render a card from the hub_cards templates and check its metadata.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    model = kinds.add_parser("model", help="card of a saved M-ACM folder")
    model.add_argument("path", type=Path, help="the model folder (config.json, safetensors)")
    model.add_argument("--repo-id", required=True, help="the Hub repository the quick start loads")
    model.add_argument("--revision", required=True, help="the revision the quick start pins (a tag, e.g. v1.0)")
    model.add_argument("--base-model", help="Hub id of the checkpoint it was converted or fine-tuned from")
    model.add_argument("--dataset", action="append", default=[], help="Hub id of a training dataset (repeatable)")
    model.add_argument("--license", default="apache-2.0", help="licence id of the weights (default apache-2.0)")
    model.add_argument(
        "--run-dir", type=Path, help="the training run's output folder (training_args.bin, checkpoints)"
    )
    model.add_argument("--training-config", type=Path, help="the YAML given to trainer/sft_macm.py with --config")
    model.add_argument("--eval-report", type=Path, help="`macm eval`'s report.json")
    model.add_argument("--tag", action="append", default=[], help="extra tag (repeatable)")
    _add_output_options(model)
    dataset = kinds.add_parser("dataset", help="card of an HMI-format dataset folder")
    dataset.add_argument("path", type=Path, help="the dataset folder (<split>/metadata.jsonl, media)")
    dataset.add_argument("--repo-id", required=True, help="the Hub repository the loading snippet names")
    dataset.add_argument("--license", required=True, help="licence id of the annotations and generated files")
    dataset.add_argument("--pretty-name", help="title (default: the repository name)")
    dataset.add_argument("--description", help="opening paragraph")
    dataset.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME=LICENSE[,URL]",
        help="licence (and link) of the rows whose `source` is NAME (repeatable)",
    )
    dataset.add_argument("--builder-report", type=Path, help="the builder's JSON report (criteria, counts, sources)")
    dataset.add_argument("--tag", action="append", default=[], help="extra tag (repeatable)")
    _add_output_options(dataset)
    parser.set_defaults(func=run_card)
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="where to write the card (default: PATH/README.md)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing card")


def _parse_sources(values: list[str]) -> dict[str, dict]:
    sources = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise ValueError(f"--source {value!r}: expected NAME=LICENSE or NAME=LICENSE,URL")
        license_, _, url = rest.partition(",")
        sources[name] = {"license": license_, "url": url or None}
    return sources


def _may_replace(path: Path, overwrite: bool) -> bool:
    """An existing card is replaced with --overwrite, or when it is TRL's draft (tagged `generated_from_trainer`)."""
    if overwrite or not path.exists():
        return True
    from huggingface_hub import ModelCard

    try:
        return "generated_from_trainer" in (ModelCard.load(path).data.tags or [])
    except Exception:  # not a card we can read: keep it
        return False


def run_card(args: argparse.Namespace) -> int:
    """Runs `macm card KIND PATH`; returns the exit status."""
    from .cards import render_dataset_card, render_model_card

    out = args.out or args.path / "README.md"
    if not _may_replace(out, args.overwrite):
        return fail(f"{out} exists; pass --overwrite to replace it")
    try:
        if args.kind == "model":
            card = render_model_card(
                args.path,
                repo_id=args.repo_id,
                base_model=args.base_model,
                datasets=args.dataset,
                license=args.license,
                revision=args.revision,
                run_dir=args.run_dir,
                training_config=args.training_config,
                eval_report=args.eval_report,
                tags=args.tag,
            )
        else:
            card = render_dataset_card(
                args.path,
                repo_id=args.repo_id,
                license=args.license,
                pretty_name=args.pretty_name,
                description=args.description,
                sources=_parse_sources(args.source),
                builder_report=args.builder_report,
                tags=args.tag,
            )
    except (FileNotFoundError, ValueError) as error:
        return fail(str(error))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(str(card), encoding="utf-8")
    print(f"wrote the {args.kind} card {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `push` and `card` subcommands."""
    register_push(subparsers)
    register_card(subparsers)
