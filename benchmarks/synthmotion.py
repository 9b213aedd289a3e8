"""SynthMotion benchmark: does the motion pathway (and MSD) get the action and the side right on held-out clips?

```bash
python benchmarks/synthmotion.py                                   # the embedded space/synthmotion-tiny
python benchmarks/synthmotion.py --model runs/synthmotion-tiny --num 300 --seed 1000 --out outputs/synthmotion
```

Clips are generated fresh from a seed the training set did not use (`--seed`, default 1000; the recipe trains on
seed 0). The motion pathway's input comes from `--pose-source`:

- `ground-truth` (default): the clip's exact joints, as in training (keyframes picked from them by the project's
  sampler; motion frames drawn from them);
- `estimated`: the path a user's clip takes: the clip is written as a video (at `--size`, default 192 px here, a
  size BlazePose reads; encoded reproducibly, so the figures repeat run to run) and goes through `extract_motion`
  with BlazePose, the sampler and the checkpoint's motion-frame settings.

Every clip is captioned greedily under each decoding mode:

- `visual`: the visual pathway alone (plain decoding, keyframes only);
- `motion`: the motion pathway alone (motion frames only);
- `msd`: Motion Synergetic Decoding, `reconstructed-v1` with all five terms;
- `msd_without_L1` ... `msd_without_L5`: MSD with one term removed;
- `contrastive`: the VCD-style baseline with MSD's pruning.

Captions are parsed with the caption grammar (`macm.processing.synth.parse_caption`) and compared with the clip's
script. Per ground-truth action: *action accuracy* = its action is named; *side accuracy* (sided actions whose action
is named) = the side named for it is right; *action+side accuracy* = both. *Exact* = the caption names exactly the
script's actions and sides (order ignored).

Grounding control: a caption that ignores its clip still names some actions right (the frequent ones), so every mode
is also scored against *other* clips' scripts (clip i's caption against clip i+k's script, k = 1..20):
`action_accuracy_other_clips` and `side_accuracy_other_clips`. Accuracy above these is what the frames contributed;
`distinct_captions` counts the different captions written. Prints ONE JSON object; with `--out` also writes
`results.json`, `table.md` and `accuracy.png`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from macm.modeling_macm.msd import MSD_TERMS
from macm.processing.caption import DEFAULT_QUESTION, checkpoint_motion_settings, load_captioner
from macm.processing.keyframes import select_keyframes
from macm.processing.pose.types import COCO17_NAMES
from macm.processing.synth import SynthConfig, generate_clip, parse_caption

POSE_SOURCES = ("ground-truth", "estimated")

EMBEDDED = Path(__file__).resolve().parents[1] / "space" / "synthmotion-tiny"


def decoding_modes() -> dict[str, dict]:
    """Mode name -> how to decode (`pathway` plus `generate` keyword arguments)."""
    modes = {
        "visual": {"pathway": "visual"},
        "motion": {"pathway": "motion"},
        "msd": {"pathway": "both"},
    }
    for term in MSD_TERMS:
        modes[f"msd_without_{term}"] = {"pathway": "both", "msd_terms": [t for t in MSD_TERMS if t != term]}
    modes["contrastive"] = {"pathway": "both", "msd_synergy": "contrastive"}
    return modes


@dataclass
class ClipInputs:
    """One held-out clip as the model reads it: keyframes, and motion frames or keypoints."""

    keyframes: list[np.ndarray]
    motion_frames: list[np.ndarray]
    keypoints: np.ndarray  # (N, 17, 3) pixels and score
    found_fraction: float = 1.0  # keyframes where the pose estimator found the person


def ground_truth_inputs(clip, num_keyframes: int) -> ClipInputs:
    """The rendered frames and exact joints, keyframes picked by the project's sampler (as the SFT collator does)."""
    keypoints = np.concatenate([clip.keypoints, np.ones((*clip.keypoints.shape[:2], 1))], axis=-1)
    picks = select_keyframes(keypoints, num_keyframes, COCO17_NAMES)
    return ClipInputs([clip.rgb[i] for i in picks], [clip.motion[i] for i in picks], keypoints[picks])


def estimated_inputs(clip, model_config, workdir: Path, fps: float) -> ClipInputs:
    """The user's path: the clip as a video through `extract_motion` (BlazePose, sampler, motion frames)."""
    from macm.processing.pipeline import extract_motion
    from macm.processing.render import OverlayVideoWriter

    video = workdir / f"{clip.metadata['id']}.mp4"
    with OverlayVideoWriter(video, fps=fps, crf=18, reproducible=True) as writer:  # the same figures run to run
        for frame in clip.rgb:
            writer.write(frame)
    num_keyframes, settings = checkpoint_motion_settings(model_config)
    result = extract_motion(
        video, num_keyframes=num_keyframes, stride=1, cache=False, progress=False, motion_frame_settings=settings
    )
    found = float(result.track.has_person[result.keyframe_track_indices].mean())
    keyframes, motion = result.keyframes, result.motion_frames
    keypoints = result.keyframe_keypoints
    if len(keyframes) < num_keyframes:  # a clip shorter than the keyframe count repeats its last keyframe
        pad = num_keyframes - len(keyframes)
        keyframes, motion = keyframes + keyframes[-1:] * pad, motion + motion[-1:] * pad
        keypoints = np.concatenate([keypoints, np.repeat(keypoints[-1:], pad, axis=0)])
    return ClipInputs(keyframes, motion, keypoints, found)


def encode_clips(model, processor, inputs: list[ClipInputs]) -> tuple[dict, str]:
    """The default question's prompt with each clip's keyframes and motion input, processed as a batch, and the name
    of the motion pathway's input in it (`"motion_joints"` or `"pixel_values_motion"`)."""
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": DEFAULT_QUESTION}]}],
        add_generation_prompt=True,
    )
    joints = getattr(model.config, "motion_encoder", "vision_tower") == "joints"
    motion_kwargs = (
        {"motion_joints": [clip.keypoints for clip in inputs]}
        if joints
        else {"motion_frames": [clip.motion_frames for clip in inputs]}
    )
    encoded = processor(text=[prompt] * len(inputs), videos=[clip.keyframes for clip in inputs], **motion_kwargs)
    return encoded, "motion_joints" if joints else "pixel_values_motion"


@torch.no_grad()
def caption_batch(
    model, processor, inputs: list[ClipInputs], mode: dict, max_new_tokens: int
) -> tuple[list[str], Counter]:
    """Greedy captions of a batch of clips under one decoding mode, and for MSD modes whose top token MSD took where
    the two pathways' top tokens differ (`followed_counts`)."""
    encoded, motion_name = encode_clips(model, processor, inputs)
    kwargs = {k: v for k, v in mode.items() if k != "pathway"}
    if mode["pathway"] == "visual":
        kwargs.update(msd=False, pixel_values_videos=encoded["pixel_values_videos"])
        input_ids = encoded["input_ids"]
    elif mode["pathway"] == "motion":
        # the motion pathway's own prompt: <motion> placeholders where the visual prompt has <video>
        input_ids = encoded["input_ids"].masked_fill(
            encoded["input_ids"] == model.config.video_token_id, model.config.motion_token_id
        )
        kwargs.update(msd=False, **{motion_name: encoded[motion_name]})
    else:
        input_ids = encoded["input_ids"]
        kwargs.update(
            msd=True,
            pixel_values_videos=encoded["pixel_values_videos"],
            output_msd=True,
            return_dict_in_generate=True,
            **{motion_name: encoded[motion_name]},
        )
    output = model.generate(
        input_ids=input_ids,
        attention_mask=encoded["attention_mask"],
        max_new_tokens=max_new_tokens,
        do_sample=False,
        **kwargs,
    )
    sequences = output.sequences if kwargs.get("return_dict_in_generate") else output
    generated = sequences[:, input_ids.shape[1] :]
    texts = processor.tokenizer.batch_decode(generated, skip_special_tokens=True)
    followed = (
        followed_counts(output.msd, generated, model.generation_config.eos_token_id)
        if kwargs.get("msd")
        else Counter()
    )
    return texts, followed


def followed_counts(msd, generated: torch.Tensor, eos_token_id) -> Counter:
    """Of the generated steps (up to each row's end-of-sequence token) where the visual and the motion pathway's top
    tokens differ: how often MSD took the visual one, the motion one, or neither."""
    eos = torch.tensor(eos_token_id if isinstance(eos_token_id, list) else [eos_token_id])
    is_end = torch.isin(generated, eos).long()
    live = is_end.cumsum(dim=1) - is_end == 0  # no end token before this step
    differ = live & (msd.visual_top != msd.motion_top)
    return Counter(
        disagreements=int(differ.sum()),
        visual=int((differ & (msd.msd_top == msd.visual_top)).sum()),
        motion=int((differ & (msd.msd_top == msd.motion_top)).sum()),
    )


def score_caption(caption: str, actions: list[dict]) -> Counter:
    """Counts for one clip: actions named, sided actions named (and with the right side), exact match."""
    predicted = Counter(parse_caption(caption))
    predicted_names = Counter(name for name, _ in predicted.elements())
    truth = [(a["name"], a["side"]) for a in actions]
    counts = Counter(actions=len(truth), exact=int(predicted == Counter(truth)))
    names_left, pairs_left = predicted_names.copy(), predicted.copy()
    for name, side in truth:
        named = names_left[name] > 0
        if named:
            names_left[name] -= 1
        counts["action_correct"] += named
        both = pairs_left[(name, side)] > 0
        if both:
            pairs_left[(name, side)] -= 1
        counts["action_side_correct"] += both
        if side != "center" and named:
            counts["sided_named"] += 1
            counts["side_correct"] += both
    return counts


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def summarize(counts: Counter, num_clips: int) -> dict:
    return {
        "action_accuracy": _ratio(counts["action_correct"], counts["actions"]),
        "side_accuracy": _ratio(counts["side_correct"], counts["sided_named"]),
        "action_side_accuracy": _ratio(counts["action_side_correct"], counts["actions"]),
        "exact": _ratio(counts["exact"], num_clips),
        "actions": counts["actions"],
        "sided_actions_named": counts["sided_named"],
    }


def grounding_control(captions: list[str], scripts: list[list[dict]], shifts: int = 20) -> dict:
    """Scores of the captions against other clips' scripts (caption i against script i+k, k = 1..shifts), and the
    number of distinct captions: what captions that ignore their clip would score."""
    counts = Counter()
    for shift in range(1, min(shifts, len(captions) - 1) + 1):
        for index, caption in enumerate(captions):
            counts += score_caption(caption, scripts[(index + shift) % len(captions)])
    return {
        "action_accuracy_other_clips": _ratio(counts["action_correct"], counts["actions"]),
        "side_accuracy_other_clips": _ratio(counts["side_correct"], counts["sided_named"]),
        "distinct_captions": len(set(captions)),
    }


def markdown_table(results: dict[str, dict]) -> str:
    lines = [
        "| decoding | action acc. | side acc. | action+side acc. | exact caption | action acc., other clips' scripts "
        "| side acc., other clips' scripts | distinct captions |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = (
        "action_accuracy",
        "side_accuracy",
        "action_side_accuracy",
        "exact",
        "action_accuracy_other_clips",
        "side_accuracy_other_clips",
    )
    for mode, row in results.items():
        cells = ["-" if row.get(k) is None else f"{100 * row[k]:.1f}%" for k in keys]
        lines.append(f"| {mode} | " + " | ".join([*cells, str(row.get("distinct_captions", "-"))]) + " |")
    return "\n".join(lines)


def followed_table(results: dict[str, dict]) -> str:
    """Per MSD mode: at the steps where the two pathways' top tokens differ, whose token MSD emitted."""
    lines = [
        "| decoding | steps where the pathways' top tokens differ | MSD took the visual token | MSD took the motion token "
        "| neither |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for mode, row in results.items():
        if followed := row.get("msd_followed"):
            total, visual, motion = followed["disagreements"], followed["visual"], followed["motion"]
            cells = [
                f"{count} ({100 * count / max(1, total):.0f}%)" for count in (visual, motion, total - visual - motion)
            ]
            lines.append(f"| {mode} | {total} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_accuracy(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results)
    metrics = ("action_accuracy", "side_accuracy", "action_side_accuracy")
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(modes)), 3.6), dpi=120)
    width = 0.8 / len(metrics)
    for k, metric in enumerate(metrics):
        values = [100 * (results[m][metric] or 0) for m in modes]
        ax.bar(np.arange(len(modes)) + (k - 1) * width, values, width, label=metric.replace("_", " "))
    ax.set_xticks(np.arange(len(modes)), modes, rotation=30, ha="right")
    ax.set_ylabel("% of ground-truth actions")
    ax.set_ylim(0, 100)
    ax.axhline(90, color="grey", lw=0.8, ls="--")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("SynthMotion held-out clips: decoding modes and MSD ablations")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(EMBEDDED), help="M-ACM folder or Hub id (default: embedded)")
    parser.add_argument("--num", type=int, default=200, help="held-out clips (default 200)")
    parser.add_argument("--seed", type=int, default=1000, help="generation seed, not the training one (default 1000)")
    parser.add_argument(
        "--pose-source",
        choices=POSE_SOURCES,
        default="ground-truth",
        help="where the motion pathway's body comes from",
    )
    parser.add_argument("--size", type=int, default=None, help="frame side (default 96; 192 with estimated poses)")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--max-new-tokens", type=int, default=72)
    parser.add_argument("--modes", nargs="*", help="subset of decoding modes (default: all)")
    parser.add_argument("--out", type=Path, help="folder for results.json, table.md, accuracy.png, captions.jsonl")
    args = parser.parse_args(argv)

    model, processor = load_captioner(args.model)
    modes = decoding_modes()
    if args.modes:
        unknown = sorted(set(args.modes) - set(modes))
        if unknown:
            parser.error(f"unknown modes {unknown}; choose from {list(modes)}")
        modes = {name: modes[name] for name in args.modes}

    estimated = args.pose_source == "estimated"
    args.size = args.size or (192 if estimated else 96)
    config = SynthConfig(seed=args.seed, size=args.size, frames=args.frames)
    start = time.perf_counter()
    clips = [generate_clip(i, config) for i in tqdm(range(args.num), desc="held-out clips")]
    generation_seconds = time.perf_counter() - start
    start = time.perf_counter()
    num_keyframes = model.config.num_keyframes
    with tempfile.TemporaryDirectory(prefix="synthmotion-benchmark-") as workdir:
        inputs = [
            estimated_inputs(clip, model.config, Path(workdir), config.fps)
            if estimated
            else ground_truth_inputs(clip, num_keyframes)
            for clip in tqdm(clips, desc=f"motion pathway ({args.pose_source})")
        ]
    pose_seconds = time.perf_counter() - start

    results, timings, captions = {}, {}, {name: [] for name in modes}
    for name, mode in modes.items():
        counts, followed = Counter(), Counter()
        start = time.perf_counter()
        for begin in range(0, len(clips), args.batch_size):
            batch = clips[begin : begin + args.batch_size]
            texts, batch_followed = caption_batch(
                model, processor, inputs[begin : begin + args.batch_size], mode, args.max_new_tokens
            )
            followed += batch_followed
            for clip, text in zip(batch, texts, strict=True):
                counts += score_caption(text, clip.metadata["actions"])
                captions[name].append(text.strip())
        timings[name] = round((time.perf_counter() - start) / len(clips), 4)
        results[name] = summarize(counts, len(clips))
        results[name].update(grounding_control(captions[name], [clip.metadata["actions"] for clip in clips]))
        if followed:
            results[name]["msd_followed"] = dict(followed)  # where the pathways' top tokens differ
        print(f"{name}: {results[name]}", file=sys.stderr)

    report = {
        "benchmark": "synthmotion",
        "model": args.model,
        "held_out": {"num_clips": args.num, "seed": args.seed, "size": args.size, "frames": args.frames},
        "pose_source": args.pose_source,
        "num_keyframes": num_keyframes,
        "motion_encoder": getattr(model.config, "motion_encoder", "vision_tower"),
        "person_found_in_keyframes": round(float(np.mean([clip.found_fraction for clip in inputs])), 4),
        "motion_pathway_seconds_per_clip": round(pose_seconds / len(clips), 4),
        "results": results,
        "seconds_per_clip": timings,
        "clips_per_second_generated": round(args.num / generation_seconds, 2),
        "machine": {"python": platform.python_version(), "threads": torch.get_num_threads()},
    }
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "table.md").write_text(markdown_table(results) + "\n")
        if any("msd_followed" in row for row in results.values()):
            (args.out / "followed.md").write_text(followed_table(results) + "\n")
        plot_accuracy(results, args.out / "accuracy.png")
        with open(args.out / "captions.jsonl", "w") as handle:
            for i, clip in enumerate(clips):
                row = {"id": clip.metadata["id"], "truth": clip.metadata["caption"]}
                row.update({name: captions[name][i] for name in modes})
                handle.write(json.dumps(row) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
