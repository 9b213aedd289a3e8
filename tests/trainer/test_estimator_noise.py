"""A pose estimator's recorded errors: measured per frame, saved, and replayed on other ground-truth joints."""

from __future__ import annotations

import numpy as np
import pytest

from macm.processing.pose.types import COCO17_NAMES
from macm.trainer.augment import augment_keypoints
from macm.trainer.estimator_noise import EstimatorNoise, frame_residuals, pose_descriptor, swap_left_right

FRAMES = 6


def standing_body(height: float = 100.0) -> np.ndarray:
    """A static body `(FRAMES, 17, 2)`: joints spread over `height` px, every left joint 20 px left of its right one."""
    xy = np.zeros((len(COCO17_NAMES), 2))
    xy[:, 1] = np.linspace(0.0, height, len(COCO17_NAMES))
    for j, name in enumerate(COCO17_NAMES):
        xy[j, 0] = 50.0 + (10.0 if name.startswith("left") else -10.0 if name.startswith("right") else 0.0)
    return np.repeat(xy[None], FRAMES, axis=0)


def an_estimate(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The truth with per-frame offsets, left and right exchanged in frame 2, a missed wrist in frame 4."""
    estimate = truth + rng.normal(0.0, 2.0, truth.shape)
    estimate[2] = swap_left_right(estimate[2])
    scores = rng.uniform(0.5, 1.0, truth.shape[:2])
    scores[4, COCO17_NAMES.index("left_wrist")] = 0.1
    return np.concatenate([estimate, scores[..., None]], axis=-1)


def same_estimate(replayed: np.ndarray, estimate: np.ndarray) -> bool:
    """Same found joints at the same places with the same scores; joints the estimate missed scored 0."""
    found = estimate[..., 2] >= 0.3
    return np.allclose(replayed[..., 2], np.where(found, estimate[..., 2], 0.0), atol=1e-6) and np.allclose(
        replayed[..., :2][found], estimate[..., :2][found], atol=1e-3
    )


def test_swap_left_right_exchanges_the_pairs_and_keeps_the_nose():
    names = np.array(COCO17_NAMES)[:, None]
    swapped = swap_left_right(names)[:, 0]
    assert swapped[COCO17_NAMES.index("left_wrist")] == "right_wrist"
    assert swapped[COCO17_NAMES.index("right_ear")] == "left_ear"
    assert swapped[COCO17_NAMES.index("nose")] == "nose"
    assert (swap_left_right(swap_left_right(names)) == names).all()


def test_frame_residuals_find_the_swapped_frame_and_the_missed_joint():
    rng = np.random.default_rng(0)
    truth = standing_body()
    estimate = an_estimate(truth, rng)
    residuals, scores, swapped = frame_residuals(truth, estimate)
    assert swapped.tolist() == [False, False, True, False, False, False]
    wrist = COCO17_NAMES.index("left_wrist")
    assert scores[4, wrist] == 0 and (residuals[4, wrist] == 0).all()
    assert np.abs(residuals).max() < 0.1  # in body heights: 2 px offsets on a 100 px body, swaps aligned


def test_replayed_errors_reproduce_the_recorded_estimate_on_the_same_body(tmp_path):
    rng = np.random.default_rng(1)
    truth = standing_body()
    estimate = an_estimate(truth, rng)
    noise = EstimatorNoise(*(part[None] for part in frame_residuals(truth, estimate)))
    noise.save(tmp_path / "residuals.npz", seed=1)
    noise = EstimatorNoise.load(tmp_path / "residuals.npz")

    keypoints = np.concatenate([truth, np.ones((*truth.shape[:2], 1))], axis=-1)
    replayed = noise.apply(keypoints, np.random.default_rng(2))
    # the recorded clip is replayed from a random start frame; on a static body every start reproduces it rotated
    assert any(same_estimate(replayed, np.roll(estimate, -start, axis=0)) for start in range(FRAMES))


def test_replay_scales_with_the_body_and_keeps_unfound_joints_unfound():
    rng = np.random.default_rng(3)
    truth = standing_body(100.0)
    noise = EstimatorNoise(*(part[None] for part in frame_residuals(truth, an_estimate(truth, rng))))
    big = np.concatenate([standing_body(400.0), np.ones((FRAMES, 17, 1))], axis=-1)
    big[1, 0, 2] = 0.0  # the nose was never found
    replayed = noise.apply(big[None].repeat(3, axis=0), np.random.default_rng(4))
    assert replayed.shape == (3, FRAMES, 17, 3)
    assert (replayed[:, 1, 0, 2] == 0).all()
    swapped = ~np.isclose(replayed[..., 0], big[None, ..., 0], atol=15).all(axis=-1)  # x moved by a pair gap
    offsets = np.abs(replayed[..., :2] - big[None, ..., :2])[~swapped]
    assert 2.0 < np.median(offsets) < 12.0  # ~2 px errors on a 100 px body become ~8 px on a 400 px body


def test_augment_gives_a_share_of_clips_the_recorded_errors():
    truth = standing_body()
    noise = EstimatorNoise(
        *(part[None] for part in frame_residuals(truth, an_estimate(truth, np.random.default_rng(5))))
    )
    keypoints = np.concatenate([truth, np.ones((FRAMES, 17, 1))], axis=-1)[None].repeat(400, axis=0)
    out = augment_keypoints(keypoints, np.random.default_rng(6), 0.0, noise, estimator_share=0.25)
    changed = ~np.isclose(out, keypoints).all(axis=(1, 2, 3))
    assert 0.15 < changed.mean() < 0.35
    single = augment_keypoints(keypoints[0], np.random.default_rng(7), 0.02, noise, estimator_share=1.0)
    assert single.shape == keypoints[0].shape


def test_a_file_that_is_not_a_residuals_file_is_named(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(ValueError, match="not an estimator-residuals file"):
        EstimatorNoise.load(path)


def arm_raised(body: np.ndarray) -> np.ndarray:
    """`body` with the left wrist and elbow above the head."""
    raised = body.copy()
    for name, lift in (("left_elbow", -30.0), ("left_wrist", -60.0)):
        raised[:, COCO17_NAMES.index(name), 1] = lift
    return raised


def test_pose_matched_replay_gives_each_pose_the_errors_recorded_on_it(tmp_path):
    """Recorded: a body standing (the estimator finds every joint) and the same body with its arm raised (it loses
    the wrist), each twice so both poses have more recorded frames than the neighbours drawn from. Replayed by pose,
    a raised arm loses its wrist and a standing body keeps it, in every frame."""
    rng = np.random.default_rng(8)
    wrist = COCO17_NAMES.index("left_wrist")
    standing, raised = standing_body(), arm_raised(standing_body())
    parts = []
    for truth, wrist_score in ((standing, 0.9), (raised, 0.0)) * 2:
        estimate = np.concatenate([truth + rng.normal(0.0, 1.0, truth.shape), np.full((*truth.shape[:2], 1), 0.9)], -1)
        estimate[:, wrist, 2] = wrist_score
        residuals, scores, swapped = frame_residuals(truth, estimate)
        parts.append((residuals, scores, swapped, pose_descriptor(truth)))
    noise = EstimatorNoise(*(np.stack(part) for part in zip(*parts, strict=True)))
    noise.save(tmp_path / "residuals.npz")
    noise = EstimatorNoise.load(tmp_path / "residuals.npz")
    assert noise.poses.shape == (4, FRAMES, 34)

    # a bigger body elsewhere in the frame: the descriptor compares poses, not sizes or places
    def scored(body):
        return np.concatenate([body * 3.0 + 200.0, np.ones((*body.shape[:2], 1))], axis=-1)

    clips = np.stack([scored(standing), scored(arm_raised(standing_body()))])
    replayed = noise.apply(clips, np.random.default_rng(9), match="pose")
    assert (replayed[0, :, wrist, 2] > 0).all()
    assert (replayed[1, :, wrist, 2] == 0).all()
    by_clip = noise.apply(clips, np.random.default_rng(9), match="clip")
    assert by_clip.shape == clips.shape


def test_pose_matching_needs_recorded_poses_and_a_known_match():
    truth = standing_body()
    noise = EstimatorNoise(
        *(part[None] for part in frame_residuals(truth, an_estimate(truth, np.random.default_rng(10))))
    )
    keypoints = np.concatenate([truth, np.ones((FRAMES, 17, 1))], axis=-1)
    with pytest.raises(ValueError, match="no true poses"):
        noise.apply(keypoints, np.random.default_rng(11), match="pose")
    with pytest.raises(ValueError, match="`match` must be one of"):
        noise.apply(keypoints, np.random.default_rng(11), match="nearest")
