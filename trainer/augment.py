"""Make ground-truth keypoints look like a pose estimator's, so a model trained on exact joints reads estimated ones."""

from __future__ import annotations

import numpy as np

__all__ = ["jitter_keypoints"]

# Share of joints an estimator misses in a frame (scored below the 0.3 the processor keeps), and the score range of
# the joints it finds: BlazePose on SynthMotion clips misses a few joints and scores the rest 0.5-1.
DROP_RATE = 0.03
SCORE_RANGE = (0.5, 1.0)


def jitter_keypoints(keypoints: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """`(F, K, 3)` pixel keypoints with Gaussian position noise of `noise` body heights (the clip's median height
    of its joints), estimator-like scores and a few joints dropped (score below 0.3)."""
    keypoints = np.array(keypoints, dtype=np.float64)
    height = np.median(keypoints[..., 1].max(axis=1) - keypoints[..., 1].min(axis=1))
    keypoints[..., :2] += rng.normal(0.0, noise * max(float(height), 1.0), keypoints[..., :2].shape)
    score = rng.uniform(*SCORE_RANGE, keypoints.shape[:2])
    dropped = rng.random(keypoints.shape[:2]) < DROP_RATE
    score[dropped] = rng.uniform(0.0, 0.3, int(dropped.sum()))
    keypoints[..., 2] = np.where(keypoints[..., 2] > 0, score, 0.0)
    return keypoints
