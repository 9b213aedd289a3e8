"""Make ground-truth keypoints look like a pose estimator's, so a model trained on exact joints reads estimated ones."""

from __future__ import annotations

import numpy as np

from .estimator_noise import EstimatorNoise, body_height

__all__ = ["augment_keypoints", "jitter_keypoints"]

# Share of joints an estimator misses in a frame (scored below the 0.3 the processor keeps), and the score range of
# the joints it finds: BlazePose on SynthMotion clips misses a few joints and scores the rest 0.5-1.
DROP_RATE = 0.03
SCORE_RANGE = (0.5, 1.0)


def jitter_keypoints(keypoints: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Pixel keypoints `(..., F, K, 3)` (one clip or a batch) with Gaussian position noise of `noise` body heights
    (each clip's median height of its joints), estimator-like scores and a few joints dropped (score below 0.3).
    Joints scored 0 (not found) stay unfound."""
    keypoints = np.array(keypoints, dtype=np.float64)
    sigma = noise * body_height(keypoints)[..., None, None, None]
    keypoints[..., :2] += rng.normal(0.0, 1.0, keypoints[..., :2].shape) * sigma
    score = rng.uniform(*SCORE_RANGE, keypoints.shape[:-1])
    dropped = rng.random(keypoints.shape[:-1]) < DROP_RATE
    score[dropped] = rng.uniform(0.0, 0.3, int(dropped.sum()))
    keypoints[..., 2] = np.where(keypoints[..., 2] > 0, score, 0.0)
    return keypoints


def augment_keypoints(
    keypoints: np.ndarray,
    rng: np.random.Generator,
    joint_noise: float,
    estimator: EstimatorNoise | None = None,
    estimator_share: float = 0.5,
    estimator_match: str = "clip",
) -> np.ndarray:
    """Keypoints `(..., F, K, 3)` as training shows them to the joints encoder: each clip gets, with probability
    `estimator_share`, a recorded pose estimator's errors (`estimator`, picked by `estimator_match`, see
    `macm.trainer.estimator_noise`), else Gaussian jitter of `joint_noise` body heights (none when 0)."""
    jittered = jitter_keypoints(keypoints, rng, joint_noise) if joint_noise else np.asarray(keypoints, np.float64)
    if estimator is None or estimator_share <= 0:
        return jittered
    estimated = estimator.apply(keypoints, rng, match=estimator_match)
    chosen = rng.random(keypoints.shape[:-3]) < estimator_share  # one draw per clip
    return np.where(np.expand_dims(chosen, (-1, -2, -3)), estimated, jittered)
