"""Training the joints motion encoder: estimator-like noise, the collator's joints, and `motion_pretrain`."""

from __future__ import annotations

import json

import numpy as np
import torch

from macm.trainer.augment import jitter_keypoints


def test_jitter_moves_joints_by_the_asked_share_of_the_body_and_keeps_unfound_joints_unfound():
    rng = np.random.default_rng(0)
    keypoints = np.zeros((2, 16, 17, 3))
    keypoints[..., 1] = np.linspace(0, 100, 17)  # a 100 px tall body
    keypoints[..., 2] = 1.0
    keypoints[:, 3, 5, 2] = 0.0  # not found
    jittered = jitter_keypoints(keypoints, rng, 0.02)
    offsets = jittered[..., :2] - keypoints[..., :2]
    assert 1.5 < offsets.std() < 2.5  # 2% of 100 px
    assert (jittered[:, 3, 5, 2] == 0).all()
    found = jittered[..., 2][keypoints[..., 2] > 0]
    assert 0.0 < (found < 0.3).mean() < 0.1 and found.max() <= 1.0  # a few joints dropped, the rest 0.5-1


def test_collator_sends_pose_sampled_joints_to_a_joints_model(tmp_path, tiny_processor):
    from macm.processing.synth import SynthConfig, write_dataset
    from macm.trainer.collator import MacmCollator
    from macm.trainer.data import build_sft_samples, load_clip_inputs, load_hmi_split

    write_dataset(tmp_path, 3, SynthConfig(seed=5, size=48, frames=8, test_fraction=0.0), progress=False)
    rows, root = load_hmi_split(str(tmp_path))
    clip = load_clip_inputs(rows[0], root, num_keyframes=4)
    assert len(clip.keyframes) == len(clip.motion_frames) == 4 and clip.keypoints.shape == (4, 17, 3)
    joints = np.load(root / rows[0]["joints_file"])
    assert np.isfinite(clip.keypoints).all() and (clip.keypoints[..., 2] == 1).all()
    assert joints.shape == (8, 17, 3)

    samples = build_sft_samples(rows, qa_ratio=0.0)
    exact = MacmCollator(tiny_processor, root, num_frames=4, motion_encoder="joints")(samples)
    assert "pixel_values_motion" not in exact and exact["motion_joints"].shape == (3, 4, 17, 3)
    torch.manual_seed(0)
    noisy = MacmCollator(tiny_processor, root, num_frames=4, motion_encoder="joints", joint_noise=0.05)(samples)
    difference = (noisy["motion_joints"][..., :2] - exact["motion_joints"][..., :2]).abs()
    assert 0.005 < difference.mean() < 0.2  # positions move by a few percent of the body, not more

    # a recorded estimator that missed every left wrist: every clip given its errors loses that joint
    from macm.processing.pose.types import COCO17_NAMES
    from macm.trainer.estimator_noise import EstimatorNoise, pose_descriptor

    wrist = COCO17_NAMES.index("left_wrist")
    scores = np.full((1, 4, 17), 0.9)
    scores[..., wrist] = 0.0
    estimator = EstimatorNoise(np.zeros((1, 4, 17, 2)), scores, np.zeros((1, 4), bool))
    replayed = MacmCollator(
        tiny_processor, root, num_frames=4, motion_encoder="joints", estimator_noise=estimator, estimator_share=1.0
    )(samples)["motion_joints"]
    assert (replayed[..., wrist, 2] == 0).all() and (replayed[..., 0, 2] > 0.8).all()

    # replayed by pose, from recorded frames whose true poses are the clip's own: the same lost wrist
    poses = pose_descriptor(clip.keypoints)[None]
    by_pose = MacmCollator(
        tiny_processor,
        root,
        num_frames=4,
        motion_encoder="joints",
        estimator_noise=EstimatorNoise(np.zeros((1, 4, 17, 2)), scores, np.zeros((1, 4), bool), poses),
        estimator_share=1.0,
        estimator_match="pose",
    )(samples)["motion_joints"]
    assert (by_pose[..., wrist, 2] == 0).all() and (by_pose[..., 0, 2] > 0.8).all()


def test_motion_pretrain_trains_only_the_motion_encoder_and_reports_recall(tmp_path, capsys):
    from macm.modeling_macm import MacmForConditionalGeneration
    from macm.trainer.init_from_scratch import main as init_main
    from macm.trainer.motion_pretrain import main

    init_main(
        ["--synthmotion", "--out", str(tmp_path / "init"), "--image-size", "32", "--patch-size", "16",
         "--vision-hidden", "32", "--vision-layers", "1", "--text-hidden", "32", "--text-layers", "1",
         "--num-keyframes", "8", "--motion-encoder", "joints", "--motion-hidden", "32", "--motion-layers", "1"]
    )  # fmt: skip
    capsys.readouterr()
    from macm.trainer.estimator_noise import EstimatorNoise

    rng = np.random.default_rng(0)
    EstimatorNoise(
        rng.normal(0, 0.03, (2, 16, 17, 2)), rng.uniform(0, 1, (2, 16, 17)), rng.random((2, 16)) < 0.1
    ).save(tmp_path / "residuals.npz")
    main(["--model", str(tmp_path / "init"), "--out", str(tmp_path / "motion"), "--clips", "96",
          "--eval-clips", "32", "--steps", "8", "--workers", "1",
          "--estimator-residuals", str(tmp_path / "residuals.npz")])  # fmt: skip
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= report["recall"] <= 1.0 and len(report["history"]) == 4
    assert json.loads((tmp_path / "motion" / "motion_pretrain.json").read_text())["recall"] == report["recall"]
    before = MacmForConditionalGeneration.from_pretrained(tmp_path / "init").state_dict()
    after = MacmForConditionalGeneration.from_pretrained(tmp_path / "motion").state_dict()
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.startswith("model.motion_encoder.") for name in changed), sorted(changed)[:5]
