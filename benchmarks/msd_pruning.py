"""Why MSD scores below the motion pathway alone: where, teacher-forced, MSD loses the motion pathway's right token.

```bash
python benchmarks/msd_pruning.py                                   # the embedded space/synthmotion-tiny
python benchmarks/msd_pruning.py --model runs/synthmotion-tiny --num 200 --seed 1000 --out outputs/msd-pruning
```

Held-out SynthMotion clips (as `benchmarks/synthmotion.py` makes them, exact joints) are read with their true
caption as the prefix, so every position is scored on the same history whatever each decoder would have written.
At each caption token the visual pathway's distribution `p`, the motion pathway's `q` and MSD's scores
(`modeling_macm.msd.msd_scores`, the checkpoint's settings) give a top token each. Where the two pathways' top
tokens differ, the position is counted under who is right, and where the motion pathway is right and the visual
one wrong, under what MSD did: kept the right token, *pruned* it (its `p` fell below MSD's cutoff, a fraction of
the visual pathway's top probability: the rule keeps only what the visual pathway finds plausible) or *outscored*
it (kept, but ranked below another token). The visual pathway's calibration on the caption tokens (mean top
probability against how often the top token is right, by confidence bin) says whether its confidence can be
trusted: a calibrated but weak visual pathway is confidently wrong as often as its accuracy says, and the rule then
prunes the motion pathway's right token.

Prints ONE JSON object; with `--out` also writes `results.json` and `pruning.md`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from macm.modeling_macm.msd import msd_scores
from macm.processing.caption import load_captioner
from macm.processing.synth import SynthConfig, generate_clip

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling script, also when imported by the tests
from synthmotion import EMBEDDED, encode_clips, ground_truth_inputs  # noqa: E402

CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


@torch.no_grad()
def pathway_logits(model, processor, clip) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher-forced next-token logits of the visual and motion pathways at each token of the clip's caption
    `(T, V)` each, and the caption's token ids `(T,)`."""
    encoded, motion_name = encode_clips(model, processor, [ground_truth_inputs(clip, model.config.num_keyframes)])
    caption = processor.tokenizer(clip.metadata["caption"].lower(), add_special_tokens=False)["input_ids"]
    input_ids = torch.cat([encoded["input_ids"], torch.tensor([caption])], dim=1)
    output = model(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        pixel_values_videos=encoded["pixel_values_videos"],
        pathways="both",
        **{motion_name: encoded[motion_name]},
    )
    start = encoded["input_ids"].shape[1] - 1  # the logits at position i predict token i + 1
    visual, motion_logits = output.logits[:, start:-1].float()
    return visual, motion_logits, torch.tensor(caption)


def count_positions(visual: torch.Tensor, motion: torch.Tensor, truth: torch.Tensor, msd_settings: dict) -> Counter:
    """Per-position counts of one caption (see the module docstring)."""
    scores = msd_scores(visual, motion, **msd_settings)
    p = visual.softmax(-1)
    visual_top, motion_top, msd_top = visual.argmax(-1), motion.argmax(-1), scores.argmax(-1)
    counts = Counter(positions=len(truth))
    for t, token in enumerate(truth.tolist()):
        top_p = float(p[t].max())
        bin_index = int(np.searchsorted(CONFIDENCE_BINS, top_p, side="right")) - 1
        counts[f"bin{bin_index}_n"] += 1
        counts[f"bin{bin_index}_p"] += top_p
        counts[f"bin{bin_index}_right"] += int(visual_top[t] == token)
        counts["msd_right"] += int(msd_top[t] == token)
        counts["motion_right"] += int(motion_top[t] == token)
        counts["visual_right"] += int(visual_top[t] == token)
        if visual_top[t] == motion_top[t]:
            continue
        counts["disagree"] += 1
        motion_right, visual_right = motion_top[t] == token, visual_top[t] == token
        kind = (
            "motion_right_visual_wrong" if motion_right else "visual_right_motion_wrong" if visual_right else "neither"
        )
        counts[kind] += 1
        if motion_right:
            if msd_top[t] == token:
                counts["msd_kept_and_chose"] += 1
            elif torch.isinf(scores[t, token]):
                counts["msd_pruned"] += 1
            else:
                counts["msd_outscored"] += 1
        elif visual_right:
            counts["msd_chose_visual_right"] += int(msd_top[t] == token)
    return counts


def summarize(counts: Counter) -> dict:
    def share(a: str, b: str) -> float | None:
        return round(counts[a] / counts[b], 4) if counts[b] else None

    calibration = []
    for index in range(len(CONFIDENCE_BINS) - 1):
        n = counts[f"bin{index}_n"]
        if n:
            calibration.append(
                {
                    "bin": [CONFIDENCE_BINS[index], min(CONFIDENCE_BINS[index + 1], 1.0)],
                    "positions": n,
                    "mean_top_probability": round(counts[f"bin{index}_p"] / n, 4),
                    "top_token_right": round(counts[f"bin{index}_right"] / n, 4),
                }
            )
    return {
        "positions": counts["positions"],
        "token_accuracy": {
            "visual": share("visual_right", "positions"),
            "motion": share("motion_right", "positions"),
            "msd": share("msd_right", "positions"),
        },
        "disagreements": counts["disagree"],
        "motion_right_visual_wrong": counts["motion_right_visual_wrong"],
        "visual_right_motion_wrong": counts["visual_right_motion_wrong"],
        "neither_right": counts["neither"],
        "msd_when_motion_right": {
            "chose_it": counts["msd_kept_and_chose"],
            "pruned_it": counts["msd_pruned"],
            "outscored_it": counts["msd_outscored"],
        },
        "msd_when_visual_right_chose_it": counts["msd_chose_visual_right"],
        "visual_calibration": calibration,
    }


def markdown_table(result: dict) -> str:
    lost = result["msd_when_motion_right"]
    right = result["motion_right_visual_wrong"]

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "n/a"

    lines = [
        "| positions where the pathways' top tokens differ | count | share |",
        "| --- | ---: | ---: |",
        f"| all | {result['disagreements']} | 100% |",
        f"| motion right, visual wrong | {right} | {pct(right, result['disagreements'])} |",
        f"| ... MSD took the motion pathway's token | {lost['chose_it']} | {pct(lost['chose_it'], right)} |",
        f"| ... MSD pruned it (visual p below the cutoff) | {lost['pruned_it']} | {pct(lost['pruned_it'], right)} |",
        f"| ... MSD kept it but ranked another higher | {lost['outscored_it']} | {pct(lost['outscored_it'], right)} |",
        f"| visual right, motion wrong | {result['visual_right_motion_wrong']} | "
        f"{pct(result['visual_right_motion_wrong'], result['disagreements'])} |",
        f"| neither right | {result['neither_right']} | {pct(result['neither_right'], result['disagreements'])} |",
        "",
        "| visual pathway's top probability | caption tokens | mean top probability | top token right |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in result["visual_calibration"]:
        low, high = row["bin"]
        lines.append(
            f"| {low:.1f}-{high:.1f} | {row['positions']} | {row['mean_top_probability']:.3f} | "
            f"{100 * row['top_token_right']:.1f}% |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(EMBEDDED), help="M-ACM folder or Hub id (default: embedded)")
    parser.add_argument("--num", type=int, default=200, help="held-out clips (default 200)")
    parser.add_argument("--seed", type=int, default=1000, help="generation seed, not the training one (default 1000)")
    parser.add_argument("--out", type=Path, help="folder for results.json and pruning.md")
    args = parser.parse_args(argv)

    model, processor = load_captioner(args.model)
    msd_settings = model.config.msd_kwargs
    clip_config = SynthConfig(seed=args.seed, size=96, frames=16)
    counts = Counter()
    for index in tqdm(range(args.num), desc="teacher-forced clips"):
        counts += count_positions(*pathway_logits(model, processor, generate_clip(index, clip_config)), msd_settings)
    report = {
        "benchmark": "msd_pruning",
        "model": args.model,
        "held_out": {"num_clips": args.num, "seed": args.seed, "pose_source": "ground-truth"},
        "msd": msd_settings,
        **summarize(counts),
    }
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "pruning.md").write_text(markdown_table(report) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
