"""Pretrain an M-ACM folder's joints motion encoder to recognise SynthMotion's actions and sides.

    python -m macm.trainer.motion_pretrain --model runs/synthmotion-init --out runs/synthmotion-init-motion \\
        [--clips 20000] [--steps 3000] [--joint-noise 0.02]

A model whose motion pathway reads joints (`motion_encoder="joints"`) starts with a random encoder. Joint sequences
are cheap (`macm.processing.synth.generate_motion` draws a clip's motion without rendering it, ~100 clips/s), so
this step gives the encoder a supervised start on many more clips than the captioned set holds: from each clip's
keyframes (picked by the project's sampler) it predicts which (action, side) pairs the clip contains, with a linear
head on the encoder's frames max-pooled over time; the head is thrown away. Positions get the same estimator-like
noise as in SFT (`macm.trainer.augment`). Training clips are the `train` split of `--seed`; progress is scored on a
seed of its own (`--eval-seed`, never the benchmark's). Prints ONE JSON object (recall@k: the share of a clip's
pairs among its k best-scored classes, k = its number of pairs) and writes it to `OUT/motion_pretrain.json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from macm.modeling_macm.processing_macm import normalize_motion_joints
from macm.processing.keyframes import select_keyframes
from macm.processing.pose.types import COCO17_NAMES
from macm.processing.synth.actions import ACTIONS, SIDES
from macm.processing.synth.dataset import SynthConfig, clip_id, clip_split, generate_motion

from .augment import augment_keypoints
from .estimator_noise import ESTIMATOR_MATCHES, EstimatorNoise

__all__ = ["ACTION_CLASSES", "joint_clips", "recall_at_k", "train_motion_encoder"]

ACTION_CLASSES = [(name, side) for name, spec in ACTIONS.items() for side in (SIDES if spec.sided else ("center",))]


def _clip(job: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, index, frames, num_keyframes = job
    motion = generate_motion(index, SynthConfig(seed=seed, frames=frames))
    keypoints = np.concatenate([motion.keypoints, np.ones((*motion.keypoints.shape[:2], 1))], axis=-1)
    picks = select_keyframes(keypoints, num_keyframes, COCO17_NAMES)
    target = np.zeros(len(ACTION_CLASSES), dtype=np.float32)
    for action in motion.script.actions:
        target[ACTION_CLASSES.index((action.name, action.side))] = 1.0
    return keypoints[picks].astype(np.float32), target


def joint_clips(
    seed: int, num: int, frames: int, num_keyframes: int, split: str | None = "train", workers: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Keyframe keypoints `(N, num_keyframes, 17, 3)` (pixels, score 1) and multi-hot (action, side) targets of the
    first `num` clips of `seed` whose ids fall in `split` (all clips when `None`)."""
    jobs, index = [], 0
    while len(jobs) < num:
        if split is None or clip_split(clip_id(seed, index)) == split:
            jobs.append((seed, index, frames, num_keyframes))
        index += 1
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = list(tqdm(pool.imap(_clip, jobs, chunksize=64), total=num, desc=f"joints (seed {seed})"))
    keypoints, targets = zip(*results, strict=True)
    return np.stack(keypoints), np.stack(targets)


def _normalised(keypoints: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack([normalize_motion_joints(clip) for clip in keypoints]))


def recall_at_k(scores: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of each clip's true classes among its k best-scored ones (k = its number of true classes)."""
    hits = total = 0
    for row_scores, row_targets in zip(scores, targets, strict=True):
        k = int(row_targets.sum())
        hits += int(row_targets[row_scores.topk(k).indices].sum())
        total += k
    return hits / max(1, total)


def train_motion_encoder(
    encoder: nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    steps: int,
    joint_noise: float,
    estimator: EstimatorNoise | None = None,
    estimator_share: float = 0.5,
    estimator_match: str = "clip",
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> dict:
    """Train `encoder` (a `MacmJointMotionEncoder`) with a throw-away multi-label head; recall@k per quarter.

    Training and scoring clips get the same noise: Gaussian `joint_noise`, and `estimator`'s recorded errors (picked
    by `estimator_match`) on a share `estimator_share` of them (see `augment_keypoints`)."""
    rng = np.random.default_rng(seed)
    width = encoder.norm.normalized_shape[0]
    head = nn.Linear(width, len(ACTION_CLASSES))
    parameters = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=steps, pct_start=0.1)

    def augment(keypoints: np.ndarray) -> np.ndarray:
        return augment_keypoints(keypoints, rng, joint_noise, estimator, estimator_share, estimator_match)

    test_x = _normalised(augment(held_out[0]))
    test_y = torch.from_numpy(held_out[1])

    def scores(x: torch.Tensor) -> torch.Tensor:
        return head(encoder.encode_frames(x).amax(dim=1))

    history, started = [], time.perf_counter()
    for step in tqdm(range(steps), desc="motion encoder"):
        encoder.train()
        batch = rng.integers(0, len(train[0]), batch_size)
        keypoints = augment(train[0][batch])
        loss = nn.functional.binary_cross_entropy_with_logits(
            scores(_normalised(keypoints)), torch.from_numpy(train[1][batch])
        )
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        schedule.step()
        if (step + 1) % max(1, steps // 4) == 0 or step + 1 == steps:
            encoder.eval()
            with torch.no_grad():
                recall = recall_at_k(torch.cat([scores(x) for x in test_x.split(256)]), test_y)
            history.append({"step": step + 1, "loss": round(loss.item(), 4), "recall": round(recall, 4)})
    encoder.eval()
    return {"history": history, "recall": history[-1]["recall"], "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="M-ACM folder with motion_encoder='joints'")
    parser.add_argument("--out", required=True, help="where to save the model with the pretrained encoder")
    parser.add_argument("--clips", type=int, default=20000, help="training clips (default 20000)")
    parser.add_argument("--eval-clips", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="SynthMotion seed of the training clips")
    parser.add_argument("--eval-seed", type=int, default=999, help="seed of the scoring clips (not the benchmark's)")
    parser.add_argument("--frames", type=int, default=16, help="frames per generated clip (as `macm synth`)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--joint-noise", type=float, default=0.02, help="position noise in body heights")
    parser.add_argument(
        "--estimator-residuals",
        type=Path,
        help="a pose estimator's recorded errors (`python -m macm.trainer.estimator_noise`), replayed on a share of clips",
    )
    parser.add_argument("--estimator-share", type=float, default=0.5, help="share of clips given those errors")
    parser.add_argument(
        "--estimator-match",
        choices=ESTIMATOR_MATCHES,
        default="clip",
        help="replay one recorded clip's errors (clip) or each frame's nearest recorded pose's (pose)",
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    from macm.modeling_macm import MacmForConditionalGeneration, MacmProcessor

    model = MacmForConditionalGeneration.from_pretrained(args.model)
    if model.model.motion_encoder is None:
        raise SystemExit(f"{args.model}: motion_encoder is {model.config.motion_encoder!r}, not 'joints'")
    # The folder maps AutoProcessor to its own code; the local class loads it without asking.
    processor = MacmProcessor.from_pretrained(args.model, trust_remote_code=True)
    keyframes = model.config.num_keyframes
    train = joint_clips(args.seed, args.clips, args.frames, keyframes, "train", args.workers)
    held_out = joint_clips(args.eval_seed, args.eval_clips, args.frames, keyframes, None, args.workers)
    estimator = EstimatorNoise.load(args.estimator_residuals) if args.estimator_residuals else None
    result = train_motion_encoder(
        model.model.motion_encoder,
        train,
        held_out,
        args.steps,
        args.joint_noise,
        estimator=estimator,
        estimator_share=args.estimator_share,
        estimator_match=args.estimator_match,
    )
    model.save_pretrained(args.out)
    processor.save_pretrained(args.out)
    report = {
        "model": args.model,
        "out": args.out,
        **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k not in ("model", "out")},
    }
    report.update(result)
    (Path(args.out) / "motion_pretrain.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
