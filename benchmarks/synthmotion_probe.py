"""How learnable are SynthMotion's actions from the frames, on a CPU budget? Measures what limits the tiny model.

```bash
python benchmarks/synthmotion_probe.py --data data/synthmotion --model space/synthmotion-tiny
python benchmarks/synthmotion_probe.py --data data/synthmotion --cnn-epochs 6 --cnn-pathways motion visual
```

Two probes predict which (action, side) pairs a clip contains from all of its frames; both train on the folder's
`train` split and are scored on its `test` split:

- `tower_linear`: a linear classifier on the model's vision-tower features, pooled 2x2 per frame as the model pools
  them. With the recipe's frozen, randomly initialised tower this is the information the projectors can start from.
- `cnn`: a small convolutional network (shared per-frame CNN with batch norm, then a temporal convolution) trained
  from scratch on the frames: a cheap upper bound on what a learned visual stem extracts in a few CPU minutes.

Score: recall@k, the share of a clip's (action, side) pairs among its k highest-scored classes (k = the clip's
number of pairs). `baseline` always answers the k most frequent training classes. Prints ONE JSON object.
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

from macm.processing.synth.actions import ACTIONS, SIDES
from macm.trainer.data import load_clip_frames, load_hmi_split

CLASSES = [(name, side) for name, spec in ACTIONS.items() for side in (SIDES if spec.sided else ("center",))]
PATHWAY_KEYS = {"visual": 0, "motion": 1}


def load_split(data: str, split: str) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """uint8 frames `(N, F, H, W, 3)` per pathway and multi-hot targets `(N, len(CLASSES))`."""
    rows, root = load_hmi_split(data, split)
    frames: dict[str, list[np.ndarray]] = {"visual": [], "motion": []}
    targets = torch.zeros(len(rows), len(CLASSES))
    for index, row in enumerate(tqdm(rows, desc=f"loading {split}", unit="clip")):
        keyframes, motion = load_clip_frames(row, root)
        frames["visual"].append(np.stack(keyframes))
        frames["motion"].append(np.stack(motion))
        for action in row["actions"]:
            targets[index, CLASSES.index((action["name"], action["side"]))] = 1.0
    return {name: torch.from_numpy(np.stack(clips)) for name, clips in frames.items()}, targets


def recall_at_k(scores: torch.Tensor, targets: torch.Tensor) -> float:
    hits = total = 0
    for row_scores, row_targets in zip(scores, targets, strict=True):
        k = int(row_targets.sum())
        hits += int(row_targets[row_scores.topk(k).indices].sum())
        total += k
    return hits / total


@torch.no_grad()
def tower_features(model, frames: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """The vision tower's selected layer, pooled as the model pools it, flattened per clip."""
    config = model.config
    features = []
    for start in range(0, len(frames), 32):
        clips = frames[start : start + 32]
        pixels = (clips.flatten(0, 1).permute(0, 3, 1, 2).float() / 255.0 - mean) / std
        hidden = model.model._select_vision_features(
            pixels, config.vision_feature_layer, config.vision_feature_select_strategy
        )
        features.append(model.model.apply_pooling(hidden).reshape(len(clips), -1))
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
    parser.add_argument("--cnn-pathways", nargs="*", default=["motion"], choices=sorted(PATHWAY_KEYS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    from transformers import AutoModel, AutoProcessor

    model = AutoModel.from_pretrained(args.model, trust_remote_code=True).eval()
    image_processor = AutoProcessor.from_pretrained(args.model, trust_remote_code=True).image_processor
    mean = torch.tensor(image_processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(image_processor.image_std).view(1, 3, 1, 1)

    train_frames, train_y = load_split(args.data, "train")
    test_frames, test_y = load_split(args.data, "test")
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
    }
    for pathway in PATHWAY_KEYS:
        features_train = tower_features(model, train_frames[pathway], mean, std)
        features_test = tower_features(model, test_frames[pathway], mean, std)
        result["tower_linear"][pathway] = round(
            recall_at_k(linear_probe(features_train, train_y, features_test), test_y), 4
        )
    for pathway in args.cnn_pathways:
        result["cnn"][pathway] = cnn_probe(
            train_frames[pathway], train_y, test_frames[pathway], test_y, args.cnn_epochs
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
