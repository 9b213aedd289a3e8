"""How learnable are SynthMotion's actions from the frames, on a CPU budget? Measures what limits the tiny model.

```bash
python benchmarks/synthmotion_probe.py --data data/synthmotion --model space/synthmotion-tiny
python benchmarks/synthmotion_probe.py --data data/synthmotion --cnn-epochs 6 --cnn-pathways motion visual
```

Each probe predicts which (action, side) pairs a clip contains from all of its frames; all train on the folder's
`train` split and are scored on its `test` split:

- `tower_linear`: a linear classifier on the model's vision-tower features, pooled 2x2 per frame as the model pools
  them. With the recipe's frozen, randomly initialised tower this is the information the projectors can start from.
- `cnn`: a small convolutional network (shared per-frame CNN with batch norm, then a temporal convolution) trained
  from scratch on the frames: a cheap upper bound on what a learned visual stem extracts in a few CPU minutes.
- `pose_temporal`: the same temporal head on the ground-truth joints (2D projections and 3D) instead of pixels: what
  the clips' motion holds for this many training clips once the body is known exactly. No pixel model can beat it.
- `pose_tower`: the checkpoint's tower trained to find the ground-truth 2D joints in both kinds of frames (per patch:
  which joints fall in it and where), then frozen; the temporal head reads its pooled features. It asks whether a
  tower pretrained for pose at this resolution (a stand-in for a pretrained encoder) would give the LM usable tokens.

Score: recall@k, the share of a clip's (action, side) pairs among its k highest-scored classes (k = the clip's
number of pairs). `baseline` always answers the k most frequent training classes. Prints ONE JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from macm.processing.pose.types import COCO17_NAMES
from macm.trainer.motion_pretrain import ACTION_CLASSES, recall_at_k
from macm.trainer.pose_pretrain import (
    PATHWAYS,
    image_normalization,
    load_frames_and_joints,
    patch_features,
    train_pose_tower,
)

CLASSES = ACTION_CLASSES
HIPS = [COCO17_NAMES.index("left_hip"), COCO17_NAMES.index("right_hip")]


def load_split(data: str, split: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
    """uint8 frames `(N, F, H, W, 3)` per pathway, ground-truth joints ("pixels_2d", "joints_3d") and multi-hot
    targets `(N, len(CLASSES))`."""
    arrays, rows = load_frames_and_joints(data, split)
    targets = torch.zeros(len(rows), len(CLASSES))
    for index, row in enumerate(rows):
        for action in row["actions"]:
            targets[index, CLASSES.index((action["name"], action["side"]))] = 1.0
    joints = {key: arrays.pop(key) for key in ("pixels_2d", "joints_3d")}
    return arrays, joints, targets


@torch.no_grad()
def tower_features(model, frames: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """The vision tower's selected layer, pooled as the model pools it: `(N, F, pooled patches * D)` per clip."""
    features = []
    for start in range(0, len(frames), 32):
        clips = frames[start : start + 32]
        hidden = patch_features(model, clips.flatten(0, 1), mean, std)
        features.append(model.model.apply_pooling(hidden).reshape(*clips.shape[:2], -1))
    return torch.cat(features)


def linear_probe(train_x, train_y, test_x, steps: int = 300) -> torch.Tensor:
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    head = nn.Linear(train_x.shape[1], train_y.shape[1])
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.05)
    for _ in range(steps):
        loss = nn.functional.binary_cross_entropy_with_logits(head(train_x), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return head(test_x)


def standardize(train_x: torch.Tensor, test_x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature standardisation with the training split's statistics (over clips and frames)."""
    axes = tuple(range(train_x.dim() - 1))
    mean, std = train_x.mean(axes), train_x.std(axes) + 1e-6
    return (train_x - mean) / std, (test_x - mean) / std


class TemporalHead(nn.Module):
    """Per-frame vectors `(B, F, D)` -> class scores: two temporal convolutions, then max over time."""

    def __init__(self, dim: int, num_classes: int, width: int = 256, dropout: float = 0.2):
        super().__init__()
        self.time = nn.Sequential(
            nn.Conv1d(dim, width, 3, padding=1),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Conv1d(width, width, 3, padding=1),
            nn.GELU(),
            nn.AdaptiveMaxPool1d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(width, num_classes)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        return self.head(self.time(sequences.transpose(1, 2)))


def temporal_probe(train_x, train_y, test_x, test_y, steps: int, batch_size: int = 64) -> dict:
    """Train a `TemporalHead` on standardised per-frame vectors; recall@k on the test split every quarter."""
    train_x, test_x = standardize(train_x, test_x)
    network = TemporalHead(train_x.shape[-1], train_y.shape[1])
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3, weight_decay=0.05)
    history, started = [], time.perf_counter()
    for step in tqdm(range(steps), desc="temporal probe", leave=False):
        network.train()
        batch = torch.randint(0, len(train_x), (batch_size,))
        loss = nn.functional.binary_cross_entropy_with_logits(network(train_x[batch]), train_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (step + 1) % max(1, steps // 4) == 0 or step + 1 == steps:
            network.eval()
            with torch.no_grad():
                history.append(round(recall_at_k(network(test_x), test_y), 4))
    return {"recall": history[-1], "recall_per_quarter": history, "seconds": round(time.perf_counter() - started, 1)}


def pose_sequences(joints: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    """Hip-centred joints per frame (2D also scaled per clip), with each frame's offset from the first: `(N, F, D)`."""
    points = joints[key]
    centred = points - points[:, :, HIPS].mean(2, keepdim=True)
    if key == "pixels_2d":
        centred = centred / centred.abs().amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
    flat = centred.flatten(2)
    return torch.cat([flat, flat - flat[:, :1]], dim=-1)


class FrameCNN(nn.Module):
    """Shared per-frame CNN (four stride-2 convolutions), a temporal convolution, max over time."""

    def __init__(self, size: int, num_classes: int, width: int = 64):
        super().__init__()
        layers, channels = [], 3
        for out in (width // 2, width, width, width):
            layers += [nn.Conv2d(channels, out, 3, 2, 1), nn.BatchNorm2d(out), nn.GELU()]
            channels = out
        side = size // 16
        self.frame = nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * side * side, 2 * width))
        self.time = nn.Sequential(
            nn.GELU(), nn.Conv1d(2 * width, 2 * width, 3, padding=1), nn.GELU(), nn.AdaptiveMaxPool1d(1), nn.Flatten()
        )
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:  # (B, F, H, W, 3) uint8
        batch, frames = clips.shape[:2]
        pixels = clips.flatten(0, 1).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        per_frame = self.frame(pixels).view(batch, frames, -1).transpose(1, 2)
        return self.head(self.time(per_frame))


def cnn_probe(train_x, train_y, test_x, test_y, epochs: int, batch_size: int = 32) -> dict:
    network = FrameCNN(train_x.shape[2], train_y.shape[1])
    optimizer = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=0.01)
    history, started = [], time.perf_counter()
    for epoch in range(epochs):
        network.train()
        order = torch.randperm(len(train_x))
        for start in tqdm(range(0, len(order), batch_size), desc=f"cnn epoch {epoch + 1}/{epochs}", leave=False):
            batch = order[start : start + batch_size]
            loss = nn.functional.binary_cross_entropy_with_logits(network(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        network.eval()
        with torch.no_grad():
            scores = torch.cat([network(test_x[i : i + 64]) for i in range(0, len(test_x), 64)])
        history.append(round(recall_at_k(scores, test_y), 4))
    return {"recall": history[-1], "recall_per_epoch": history, "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/synthmotion", help="SynthMotion folder with train and test splits")
    parser.add_argument("--model", default=str(Path(__file__).resolve().parents[1] / "space" / "synthmotion-tiny"))
    parser.add_argument("--cnn-epochs", type=int, default=6)
    parser.add_argument("--cnn-pathways", nargs="*", default=["motion"], choices=sorted(PATHWAYS))
    parser.add_argument("--pose-steps", type=int, default=3000, help="training steps of each temporal head")
    parser.add_argument("--pose-tower-steps", type=int, default=2000, help="0 skips the pose-pretrained tower")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    from transformers import AutoModel, AutoProcessor

    model = AutoModel.from_pretrained(args.model, trust_remote_code=True).eval()
    mean, std = image_normalization(AutoProcessor.from_pretrained(args.model, trust_remote_code=True))

    train_frames, train_joints, train_y = load_split(args.data, "train")
    test_frames, test_joints, test_y = load_split(args.data, "test")
    if train_frames["visual"].shape[2] != model.config.vision_config.image_size:
        raise SystemExit(f"{args.data}: frames are not {model.config.vision_config.image_size} px, the tower's size")
    frequent = train_y.sum(0)
    result = {
        "data": args.data,
        "model": args.model,
        "train_clips": len(train_y),
        "test_clips": len(test_y),
        "frames_per_clip": int(train_frames["visual"].shape[1]),
        "classes": len(CLASSES),
        "baseline": round(recall_at_k(frequent.expand_as(test_y), test_y), 4),
        "tower_linear": {},
        "cnn": {},
        "pose_temporal": {},
        "pose_tower": {},
    }
    for pathway in PATHWAYS:
        features_train = tower_features(model, train_frames[pathway], mean, std).flatten(1)
        features_test = tower_features(model, test_frames[pathway], mean, std).flatten(1)
        result["tower_linear"][pathway] = round(
            recall_at_k(linear_probe(features_train, train_y, features_test), test_y), 4
        )
    for key in ("pixels_2d", "joints_3d"):
        sequences = pose_sequences(train_joints, key), pose_sequences(test_joints, key)
        result["pose_temporal"][key] = temporal_probe(sequences[0], train_y, sequences[1], test_y, args.pose_steps)
    if args.pose_tower_steps:
        pose_model = copy.deepcopy(model)
        frames = {
            (split, pathway): source[pathway]
            for split, source in (("train", train_frames), ("test", test_frames))
            for pathway in PATHWAYS
        }
        pixels = {"train": train_joints["pixels_2d"], "test": test_joints["pixels_2d"]}
        result["pose_tower"] = train_pose_tower(pose_model, frames, pixels, mean, std, args.pose_tower_steps)
        for pathway in PATHWAYS:
            features_train = tower_features(pose_model, train_frames[pathway], mean, std)
            features_test = tower_features(pose_model, test_frames[pathway], mean, std)
            result["pose_tower"][pathway] = temporal_probe(
                features_train, train_y, features_test, test_y, args.pose_steps
            )
    for pathway in args.cnn_pathways:
        result["cnn"][pathway] = cnn_probe(
            train_frames[pathway], train_y, test_frames[pathway], test_y, args.cnn_epochs
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
