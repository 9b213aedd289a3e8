"""`macm eval`: score a model or a predictions file on HMI-Bench and write a report.

```bash
macm eval --bench HMI-Bench/ --predictions preds.jsonl --out eval/ \
    --judge-url http://localhost:8000 --judge-model Qwen/Qwen2.5-72B-Instruct
```

writes to ``--out``: ``report.json`` (every number and the settings), ``report.md`` (ours beside the paper's rows),
``captions.png`` (the caption metrics beside the paper's rows), ``radar.png`` (the five judged dimensions against
the paper's M-ACM rows; only when a judge ran) and
``per_sample.jsonl`` (per video: prediction, references, caption metrics, judgement or its failure, true/false
answers, judged open-ended answers, motion-grounded consistency). With ``--model`` the generated predictions are
also written as ``predictions.jsonl`` (re-score them later with ``--predictions``).

Without ``--judge-url``/``--judge-model`` (or ``--judge-local``) the five dimensions are skipped and the report says
so. Judgements are cached (``--judge-cache``), so re-running costs no judge request. Motion-grounded consistency
(``--consistency``) runs by default when some clip has pose data (a ``joints_file`` in its row, or the motion
cache's entry for its video); clips without are skipped and counted. Bad inputs exit with status 2 and one
``macm: error: ...`` line (`macm.processing.cli_exit`).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from macm.processing.cli_exit import EXIT_UNAVAILABLE, fail

__all__ = ["register", "run_eval"]

logger = logging.getLogger(__name__)


def _default_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "macm" / "judge_cache.jsonl"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `eval` subcommand."""
    parser = subparsers.add_parser(
        "eval",
        help="score predictions or a model on HMI-Bench",
        description="Caption metrics, LLM-judged motion understanding dimensions and true/false accuracy on HMI-Bench.",
    )
    parser.add_argument(
        "--bench", type=Path, required=True, help="HMI-Bench folder (HMI-Bench.json, HMI-Bench-QA.json, videos/)"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--predictions", type=Path, help="predictions JSON lines: {'video', 'caption', 'answers'?} per line"
    )
    source.add_argument("--model", help="M-ACM checkpoint folder or Hub id to generate predictions with")
    parser.add_argument(
        "--msd",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --model: Motion Synergetic Decoding (default on)",
    )
    model = parser.add_argument_group("with --model")
    model.add_argument(
        "--pose-backend", default="blazepose", help="pose backend of the motion pathway (default blazepose)"
    )
    model.add_argument(
        "--num-keyframes",
        type=int,
        default=None,
        help="keyframes per clip (default: the checkpoint's num_keyframes; 16 without --model)",
    )
    model.add_argument("--smpl-dir", type=Path, default=None, help="SMPL model directory (else limb capsules)")
    model.add_argument("--max-new-tokens", type=int, default=256, help="caption length limit (default 256)")
    model.add_argument(
        "--no-motion-cache",
        action="store_true",
        help="neither read nor write the motion cache (the consistency score then reads only joints_file rows)",
    )
    model.add_argument(
        "--answer-questions",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also answer the benchmark's questions (default on)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if needed)")
    parser.add_argument(
        "--backend",
        choices=("auto", "coco", "python"),
        default="auto",
        help="caption metrics: pycocoevalcap (needs Java), pure Python, or auto (default)",
    )
    judge = parser.add_argument_group("LLM judge (the five dimensions)")
    judge.add_argument("--judge-url", help="OpenAI-compatible server, e.g. http://localhost:8000 (vLLM, TGI)")
    judge.add_argument("--judge-model", help="model id served at --judge-url")
    judge.add_argument(
        "--judge-api-key", default=None, help="API key (default: $MACM_JUDGE_API_KEY, then $OPENAI_API_KEY)"
    )
    judge.add_argument(
        "--judge-local", help="local transformers chat model (folder or Hub id) as judge instead of a server"
    )
    judge.add_argument(
        "--judge-prompt",
        default="judge_v1",
        help="prompt version under evaluation/prompts/ or a .md path (default judge_v1)",
    )
    judge.add_argument("--judge-seed", type=int, default=1234, help="sampling seed sent to the server (default 1234)")
    judge.add_argument(
        "--judge-cache", type=Path, default=None, help=f"judgement cache JSON lines (default {_default_cache()})"
    )
    judge.add_argument(
        "--judge-qa-prompt", default="judge_qa_v1", help="prompt for open-ended answers (default judge_qa_v1)"
    )
    judge.add_argument(
        "--judge-qa",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also judge the predicted answers to open-ended questions (default on)",
    )
    judge.add_argument(
        "--judge-attempts", type=int, default=3, help="requests per item before a failure is recorded (default 3)"
    )
    parser.add_argument(
        "--consistency",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="motion-grounded consistency of the captions with the clips' pose tracks (a row's joints_file, else the "
        "motion cache of --pose-backend/--num-keyframes); default: on when some clip has pose data",
    )
    parser.add_argument("--label", default="ours", help="name of this run in the report tables (default 'ours')")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run_eval)
    return parser


def _build_judge(args: argparse.Namespace):
    from .judge import CaptionJudge, JudgeCache, OpenAIJudge, TransformersJudge, load_prompt

    if args.judge_local and (args.judge_url or args.judge_model):
        raise ValueError("give either --judge-local or --judge-url with --judge-model, not both")
    if bool(args.judge_url) != bool(args.judge_model):
        raise ValueError("--judge-url and --judge-model go together")
    if args.judge_local:
        backend = TransformersJudge(args.judge_local)
    elif args.judge_url:
        api_key = args.judge_api_key or os.environ.get("MACM_JUDGE_API_KEY") or os.environ.get("OPENAI_API_KEY")
        backend = OpenAIJudge(args.judge_url, args.judge_model, api_key=api_key, seed=args.judge_seed)
    else:
        return None
    cache = JudgeCache(args.judge_cache if args.judge_cache is not None else _default_cache())
    return CaptionJudge(
        backend,
        prompt=load_prompt(args.judge_prompt),
        qa_prompt=load_prompt(args.judge_qa_prompt),
        cache=cache,
        max_attempts=args.judge_attempts,
    )


def _extra_metrics(args: argparse.Namespace) -> dict:
    """The motion-consistency metric unless ``--no-consistency``; ``--consistency`` reports even without pose data."""
    if args.consistency is False:
        return {}
    from macm.processing.cache import MotionCache

    from .consistency import ConsistencyMetric

    metric = ConsistencyMetric(
        cache=None if args.no_motion_cache else MotionCache(),
        pose_backend=args.pose_backend,
        num_keyframes=args.num_keyframes,
        required=bool(args.consistency),
        progress=not args.no_progress,
    )
    return {"consistency": metric}


def _checkpoint_keyframes(model: str | None) -> int:
    """The keyframe count the checkpoint was trained with (its config only, no weights); 16 without one."""
    if not model:
        return 16
    from transformers import AutoConfig

    try:
        return int(getattr(AutoConfig.from_pretrained(model, trust_remote_code=True), "num_keyframes", 16))
    except (OSError, ValueError):  # reported, with the reason, when the model itself is loaded
        return 16


def run_eval(args: argparse.Namespace) -> int:
    """Runs ``macm eval``; returns the exit status."""
    from .bench import load_bench, load_predictions
    from .predict import generate_predictions, write_predictions
    from .report import write_report
    from .runner import evaluate_predictions

    try:
        args.num_keyframes = args.num_keyframes or _checkpoint_keyframes(args.model)
        bench = load_bench(args.bench)
        judge = _build_judge(args)
        if args.predictions is not None:
            if not args.predictions.is_file():
                return fail(f"--predictions {args.predictions}: no such file")
            predictions = load_predictions(args.predictions)
            source = {"predictions": str(args.predictions)}
        else:
            source = {"model": args.model, "msd": args.msd, "pose_backend": args.pose_backend}
            try:
                predictions = generate_predictions(
                    bench,
                    args.model,
                    msd=args.msd,
                    answer_questions=args.answer_questions,
                    pose_backend=args.pose_backend,
                    num_keyframes=args.num_keyframes,
                    smpl_dir=args.smpl_dir,
                    max_new_tokens=args.max_new_tokens,
                    motion_cache=not args.no_motion_cache,
                    progress=not args.no_progress,
                )
            except (OSError, ImportError) as error:  # checkpoint or pose model unavailable
                return fail(f"--model {args.model}: {error}", EXIT_UNAVAILABLE)
            if not predictions:
                return fail(f"--model {args.model}: no benchmark video could be captioned (see the log)")
            write_predictions(predictions, args.out / "predictions.jsonl")
        result = evaluate_predictions(
            bench,
            predictions,
            backend=args.backend,
            judge=judge,
            extra_metrics=_extra_metrics(args),
            source=source,
            progress=not args.no_progress,
            judge_open_qa=args.judge_qa,
        )
        result.summary.setdefault("consistency", {"enabled": False, "reason": "turned off (--no-consistency)"})
    except (FileNotFoundError, ValueError) as error:
        return fail(str(error))
    except RuntimeError as error:
        return fail(str(error), EXIT_UNAVAILABLE)
    files = write_report(result, args.out, label=args.label)
    scores = result.summary["caption_metrics"]["scores"]
    logger.info(
        "HMI-Bench: BLEU-4 %.4f METEOR %.4f ROUGE-L %.4f CIDEr %.4f (%s backend); report in %s",
        scores["BLEU-4"],
        scores["METEOR"],
        scores["ROUGE-L"],
        scores["CIDEr"],
        result.summary["caption_metrics"]["backend"],
        files["markdown"],
    )
    consistency = result.summary["consistency"]
    if consistency.get("enabled"):
        logger.info(
            "motion consistency: limb %s, side %s over %d scored clips (%d skipped)",
            _fmt_score(consistency["limb_consistency"]),
            _fmt_score(consistency["side_consistency"]),
            consistency["n_scored"],
            consistency["n_skipped"],
        )
    return 0


def _fmt_score(value) -> str:
    return "-" if value is None else f"{value:.3f}"
