"""Pretrain an M-ACM folder's vision tower to find ground-truth 2D joints in SynthMotion frames.

    python -m macm.trainer.pose_pretrain --model runs/synthmotion-init --data data/synthmotion \\
        --out runs/synthmotion-init-pose [--steps 2000]

No pretrained encoder can be downloaded here, so a model trained from scratch starts from a random tower, whose
features carry nothing the projectors can read (`benchmarks/synthmotion_probe.py`). This step gives the tower a
supervised start from the dataset's own ground-truth joints, a stand-in for a pretrained (pose-aware) encoder: for
each patch of a frame, a logit per joint for falling in that patch (softmax over the patches) and the joint's offset
inside it, trained on keyframes and motion frames alternately. Only the tower changes; the head is thrown away.
Prints one JSON object: the share of in-frame joints put in the right patch on held-out frames, per pathway.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from macm.processing.synth.render_rgb import project_points

from .data import load_clip_frames, load_hmi_split

__all__ = [
    "PATHWAYS",
    "clip_joints",
    "image_normalization",
    "joint_patch_targets",
    "load_frames_and_joints",
    "patch_features",
    "train_pose_tower",
]

PATHWAYS = ("visual", "motion")


def clip_joints(row: dict, root: Path) -> tuple[np.ndarray, np.ndarray]:
    """A SynthMotion row's ground-truth joints at its frames: pixels `(F, 17, 2)` and metres `(F, 17, 3)`."""
    if not row.get("joints_file") or not row.get("intrinsics"):
        raise ValueError(
            f"row {row.get('id')}: no `joints_file`/`intrinsics`; ground-truth joints need SynthMotion data"
        )
    joints = np.load(root / row["joints_file"])[row["keyframe_indices"]]
    return project_points(joints, row["intrinsics"]).astype(np.float32), joints.astype(np.float32)


def load_frames_and_joints(data: str, split: str) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """uint8 frames `(N, F, H, W, 3)` per pathway, joints ("pixels_2d" `(N, F, 17, 2)`, "joints_3d"), and the rows."""
    rows, root = load_hmi_split(data, split)
    arrays: dict[str, list[np.ndarray]] = {"visual": [], "motion": [], "pixels_2d": [], "joints_3d": []}
    for row in tqdm(rows, desc=f"loading {split}", unit="clip"):
        keyframes, motion = load_clip_frames(row, root)
        pixels, joints = clip_joints(row, root)
        for key, value in zip(arrays, (np.stack(keyframes), np.stack(motion), pixels, joints), strict=True):
            arrays[key].append(value)
    return {key: torch.from_numpy(np.stack(values)) for key, values in arrays.items()}, list(rows)


def patch_features(model, frames: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 frames `(N, H, W, 3)` -> the vision tower's selected layer `(N, patches, D)`, as the model selects it."""
    pixels = (frames.permute(0, 3, 1, 2).float() / 255.0 - mean) / std
    config = model.config
    return model.model._select_vision_features(
        pixels, config.vision_feature_layer, config.vision_feature_select_strategy
    )


def joint_patch_targets(
    pixels: torch.Tensor, size: int, patch: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per joint `(N, J, 2)`: the row-major index of the patch it falls in, its offset inside that patch in
    [-0.5, 0.5), and whether it is in the frame at all."""
    side = size // patch
    inside = ((pixels >= 0) & (pixels < size)).all(-1)
    clamped = pixels.clamp(0, size - 1e-3)
    cell = torch.div(clamped, patch, rounding_mode="floor").long()
    return cell[..., 1] * side + cell[..., 0], (clamped - cell * patch) / patch - 0.5, inside


def train_pose_tower(
    model, frames: dict, pixels: dict, mean, std, steps: int, batch_size: int = 128, lr: float = 2e-3
) -> dict:
    """Train `model`'s vision tower in place on `frames[split, pathway]` `(N, F, H, W, 3)` with the joints
    `pixels[split]` `(N, F, J, 2)`. Returns the share of in-frame joints put in the right patch on (at most 100)
    held-out clips per pathway, and the seconds taken."""
    vision = model.config.vision_config
    tower = model.model.vision_tower
    num_joints = pixels["train"].shape[2]
    head = nn.Linear(vision.hidden_size, num_joints * 3)
    parameters = [*tower.parameters(), *head.parameters()]
    for parameter in parameters:
        parameter.requires_grad_(True)
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps, pct_start=0.05)

    def loss_and_hits(images: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = patch_features(model, images, mean, std)  # (B, P, D)
        out = head(hidden).view(len(images), hidden.shape[1], num_joints, 3)
        cell, offset, inside = joint_patch_targets(points, vision.image_size, vision.patch_size)
        logits = out[..., 0].transpose(1, 2)  # (B, J, P)
        location = nn.functional.cross_entropy(logits.flatten(0, 1), cell.flatten(), reduction="none").view_as(cell)
        chosen = out[..., 1:].gather(1, cell[:, None, :, None].expand(-1, 1, -1, 2)).squeeze(1)  # (B, J, 2)
        weight = inside.float()
        error = (location + (chosen - offset).abs().sum(-1)) * weight
        hits = (logits.argmax(-1) == cell).float() * weight
        return error.sum() / weight.sum().clamp_min(1.0), hits.sum() / weight.sum().clamp_min(1.0)

    started = time.perf_counter()
    model.train()
    for step in tqdm(range(steps), desc="pose pretraining", unit="step"):
        pathway = PATHWAYS[step % 2]
        clips = frames["train", pathway]
        clip = torch.randint(0, len(clips), (batch_size,))
        frame = torch.randint(0, clips.shape[1], (batch_size,))
        loss, _ = loss_and_hits(clips[clip, frame], pixels["train"][clip, frame])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    held_out = {}
    with torch.no_grad():
        for pathway in PATHWAYS:
            clips = frames["test", pathway][:100]
            _, hits = loss_and_hits(clips.flatten(0, 1), pixels["test"][: len(clips)].flatten(0, 1))
            held_out[pathway] = round(float(hits), 4)
    return {"joint_patch_accuracy": held_out, "seconds": round(time.perf_counter() - started, 1)}


def image_normalization(processor) -> tuple[torch.Tensor, torch.Tensor]:
    """The processor's image mean and std, shaped to broadcast over `(N, 3, H, W)`."""
    image_processor = processor.image_processor
    return (
        torch.tensor(image_processor.image_mean).view(1, 3, 1, 1),
        torch.tensor(image_processor.image_std).view(1, 3, 1, 1),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="M-ACM folder (e.g. from init_from_scratch)")
    parser.add_argument("--data", required=True, help="SynthMotion folder (train and test splits, joints)")
    parser.add_argument("--out", required=True, help="where to save the model with the pretrained tower")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    from macm.modeling_macm import MacmForConditionalGeneration, MacmProcessor

    model = MacmForConditionalGeneration.from_pretrained(args.model)
    # The folder maps AutoProcessor to its own code; the local class loads it without asking.
    processor = MacmProcessor.from_pretrained(args.model, trust_remote_code=True)
    arrays = {split: load_frames_and_joints(args.data, split)[0] for split in ("train", "test")}
    size = model.config.vision_config.image_size
    if arrays["train"]["visual"].shape[2] != size:
        raise SystemExit(f"{args.data}: frames are {arrays['train']['visual'].shape[2]} px, the tower takes {size} px")
    frames = {(split, pathway): arrays[split][pathway] for split in arrays for pathway in PATHWAYS}
    pixels = {split: arrays[split]["pixels_2d"] for split in arrays}
    mean, std = image_normalization(processor)
    result = train_pose_tower(model, frames, pixels, mean, std, args.steps)
    model.save_pretrained(args.out)
    processor.save_pretrained(args.out)
    print(json.dumps({"model": args.model, "out": args.out, "steps": args.steps, **result}))


if __name__ == "__main__":
    main()
