"""The joints motion encoder (`motion_encoder="joints"`): processor normalisation, forward, training, MSD generate."""

import numpy as np
import pytest
import torch
from tiny_models import caption_prompt, random_clip, tiny_macm

from macm.modeling_macm import MacmForConditionalGeneration
from macm.modeling_macm.modeling_macm import num_video_tokens
from macm.modeling_macm.processing_macm import normalize_motion_joints

TEXTS = ["Describe.", "Which hand is raised, the left or the right one?"]


def _joints(seed: int, num_frames: int = 3) -> np.ndarray:
    """`(F, 17, 3)` pixel keypoints of a figure around (200, 150) about 100 px tall."""
    rng = np.random.default_rng(seed)
    xy = np.array([200.0, 150.0]) + rng.normal(0, 30, (num_frames, 17, 2))
    xy[:, :, 1] += np.linspace(-50, 50, 17)  # head to feet
    return np.concatenate([xy, rng.uniform(0.5, 1.0, (num_frames, 17, 1))], axis=-1)


@pytest.fixture(scope="module")
def joints_model():
    return tiny_macm(motion_encoder="joints", motion_encoder_hidden_size=32, motion_encoder_heads=4)


def _inputs(processor, texts=TEXTS, num_frames=3, seed=0):
    return processor(
        text=[caption_prompt(processor, text) for text in texts],
        videos=[random_clip(seed + i, num_frames) for i in range(len(texts))],
        motion_joints=[_joints(seed + 50 + i, num_frames) for i in range(len(texts))],
    )


def test_normalisation_removes_position_and_size_and_drops_unsure_joints():
    joints = _joints(0, num_frames=4)
    moved = joints.copy()
    moved[..., :2] = moved[..., :2] * 2.5 + [400.0, -80.0]
    np.testing.assert_allclose(normalize_motion_joints(joints), normalize_motion_joints(moved), atol=1e-5)
    joints[1, 3, 2] = 0.1
    joints[2, 4, :2] = np.nan
    normalised = normalize_motion_joints(joints)
    assert normalised.dtype == np.float32 and normalised.shape == (4, 17, 3)
    np.testing.assert_array_equal(normalised[1, 3], [0, 0, 0])
    np.testing.assert_array_equal(normalised[2, 4], [0, 0, 0])
    hips = normalised[:, [11, 12], :2].mean(axis=1)
    assert np.abs(np.median(hips, axis=0)).max() < 1e-5  # the clip's median hip centre is the origin
    np.testing.assert_array_equal(normalize_motion_joints(np.zeros((2, 17, 3))), np.zeros((2, 17, 3)))


def test_processor_returns_motion_joints_paired_with_the_keyframes(tiny_processor):
    inputs = _inputs(tiny_processor)
    assert inputs["motion_joints"].shape == (2, 3, 17, 3)
    assert "pixel_values_motion" not in inputs
    with pytest.raises(ValueError, match="pair with the clips' frames"):
        tiny_processor(
            text=[caption_prompt(tiny_processor)], videos=[random_clip(0, 3)], motion_joints=[_joints(0, num_frames=2)]
        )


def test_motion_features_have_the_visual_block_shape_and_follow_the_joints(joints_model, tiny_processor):
    inputs = _inputs(tiny_processor)
    video, motion = joints_model.model.get_pathway_features(
        inputs["pixel_values_videos"], motion_joints=inputs["motion_joints"]
    )
    assert motion.shape == video.shape == (2, num_video_tokens(joints_model.config, 3), 64)
    swapped = inputs["motion_joints"].clone()
    swapped[:, :, [5, 6]] = swapped[:, :, [6, 5]]  # left and right shoulder exchanged
    _, changed = joints_model.model.get_pathway_features(motion_joints=swapped)
    assert not torch.allclose(changed, motion)


def test_loss_and_gradients_reach_the_motion_encoder(joints_model, tiny_processor):
    inputs = _inputs(tiny_processor)
    model = MacmForConditionalGeneration(joints_model.config).train()
    model.load_state_dict(joints_model.state_dict())
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    out = model(**inputs, labels=labels)
    assert out.visual_loss is not None and out.motion_loss is not None
    out.loss.backward()
    assert model.model.motion_encoder.frame_embedding.weight.grad.abs().sum() > 0
    assert model.model.motion_projector.linear_1.weight.grad.abs().sum() > 0


def test_msd_generate_with_joints_matches_the_reference_and_motion_only(joints_model, tiny_processor):
    inputs = _inputs(tiny_processor)
    msd = joints_model.generate(**inputs, msd=True, max_new_tokens=6, do_sample=False)
    reference = joints_model.generate(**inputs, msd=True, max_new_tokens=6, do_sample=False, use_cache=False)
    torch.testing.assert_close(msd, reference, rtol=0, atol=0)
    # the motion pathway alone: <motion> placeholders and the joints
    motion_ids = inputs["input_ids"].masked_fill(
        inputs["input_ids"] == joints_model.config.video_token_id, joints_model.config.motion_token_id
    )
    motion_only = joints_model.generate(
        input_ids=motion_ids,
        attention_mask=inputs["attention_mask"],
        motion_joints=inputs["motion_joints"],
        max_new_tokens=6,
        do_sample=False,
    )
    assert motion_only.shape == msd.shape


def test_wrong_motion_input_for_the_encoder_is_named(joints_model, tiny_processor, tiny_model):
    inputs = _inputs(tiny_processor)
    with pytest.raises(ValueError, match="needs `motion_joints`"):
        joints_model.generate(
            input_ids=inputs["input_ids"], pixel_values_videos=inputs["pixel_values_videos"], msd=True
        )
    with pytest.raises(ValueError, match="reads `pixel_values_motion`"):
        tiny_model(**inputs, pathways="both")
    with pytest.raises(ValueError, match="reads motion frames"):
        tiny_model.model.get_pathway_features(motion_joints=inputs["motion_joints"])


def test_save_and_reload_keeps_the_encoder(joints_model, tmp_path, tiny_processor):
    joints_model.save_pretrained(tmp_path)
    loaded = MacmForConditionalGeneration.from_pretrained(tmp_path).eval()
    assert loaded.config.motion_encoder == "joints"
    inputs = _inputs(tiny_processor)
    torch.testing.assert_close(
        loaded(**inputs, pathways="both").logits, joints_model(**inputs, pathways="both").logits
    )
