import pytest
import torch
from tiny_models import VOCAB_SIZE, paired_inputs, tiny_macm


def test_forward_shapes_per_pathway(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe.", "What does the left arm do?"])
    batch, length = inputs["input_ids"].shape
    with torch.no_grad():
        visual = tiny_model(**inputs, pathways="visual")
        motion = tiny_model(**inputs, pathways="motion")
        both = tiny_model(**inputs, pathways="both")
    assert visual.logits.shape == (batch, length, VOCAB_SIZE)
    assert both.logits.shape == (2 * batch, length, VOCAB_SIZE)
    # the stacked layout is exactly the two pathways run on their own
    torch.testing.assert_close(both.logits[:batch], visual.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(both.logits[batch:], motion.logits, rtol=1e-5, atol=1e-5)
    assert visual.video_hidden_states.shape == (batch, tiny_processor.num_video_tokens(3), 64)
    assert both.motion_hidden_states.shape == visual.video_hidden_states.shape


def test_motion_pathway_reads_motion_frames(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe."])
    with torch.no_grad():
        motion = tiny_model(**inputs, pathways="motion").logits
        inputs["pixel_values_motion"] = torch.flip(inputs["pixel_values_motion"], dims=[-1])
        flipped = tiny_model(**inputs, pathways="motion").logits
        visual = tiny_model(**inputs, pathways="visual").logits
        inputs["pixel_values_motion"] = torch.zeros_like(inputs["pixel_values_motion"])
        visual_again = tiny_model(**inputs, pathways="visual").logits
    assert not torch.allclose(motion, flipped)
    torch.testing.assert_close(visual, visual_again, rtol=0, atol=0)


@pytest.mark.parametrize("pathways", ["both", "visual", "motion"])
def test_loss_per_pathway(tiny_processor, pathways):
    model = tiny_macm(loss_pathways=pathways)
    inputs = paired_inputs(tiny_processor, ["Describe.", "Which leg kicks?"])
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    out = model(**inputs, labels=labels)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    if pathways == "both":
        torch.testing.assert_close(out.loss, (out.visual_loss + out.motion_loss) / 2)
        assert out.logits.shape[0] == 4
    elif pathways == "visual":
        assert out.motion_loss is None and out.visual_loss is out.loss
    else:
        assert out.visual_loss is None and out.motion_loss is out.loss


def test_motion_loss_weight(tiny_processor):
    model = tiny_macm(motion_loss_weight=3.0)
    inputs = paired_inputs(tiny_processor, ["Describe."])
    out = model(**inputs, labels=inputs["input_ids"])
    torch.testing.assert_close(out.loss, (out.visual_loss + 3.0 * out.motion_loss) / 4)


def test_placeholder_feature_mismatch_names_both_counts(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe."])
    ids = inputs["input_ids"]
    video_positions = (ids[0] == tiny_model.config.video_token_id).nonzero().flatten()
    ids[0, video_positions[:5]] = 65  # five placeholders become text
    expected = f"tokens {len(video_positions) - 5}, features {len(video_positions)}"
    with pytest.raises(ValueError, match=expected):
        tiny_model(**inputs, pathways="visual")


def test_paired_frames_without_pathway_choice_is_an_error(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe."])
    with pytest.raises(ValueError, match="no <motion> tokens.*pathways="):
        tiny_model(**inputs)


def test_missing_pixels_for_placeholders_is_an_error(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe."])
    with pytest.raises(ValueError, match="pixel_values_videos"):
        tiny_model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
    with pytest.raises(ValueError, match="needs `pixel_values_motion`"):
        tiny_model(input_ids=inputs["input_ids"], pixel_values_videos=inputs["pixel_values_videos"], pathways="both")


def test_explicit_motion_prompt_matches_motion_pathway(tiny_model, tiny_processor):
    """A prompt written with <motion> equals the motion pathway derived from the <video> prompt."""
    from tiny_models import caption_prompt, random_clip

    prompt = caption_prompt(tiny_processor).replace("<video>", "<motion>")
    explicit = tiny_processor(text=prompt, motion_frames=random_clip(100))
    derived = paired_inputs(tiny_processor, ["Describe the motion."])
    with torch.no_grad():
        a = tiny_model(**explicit).logits
        b = tiny_model(**derived, pathways="motion").logits
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_bf16_and_sdpa(tiny_processor):
    model = tiny_macm(attn_implementation="sdpa").to(torch.bfloat16)
    inputs = paired_inputs(tiny_processor, ["Describe."])
    inputs["pixel_values_videos"] = inputs["pixel_values_videos"].to(torch.bfloat16)
    inputs["pixel_values_motion"] = inputs["pixel_values_motion"].to(torch.bfloat16)
    with torch.no_grad():
        out = model(**inputs, pathways="both")
    assert out.logits.dtype == torch.bfloat16 and torch.isfinite(out.logits.float()).all()
    assert model.config.text_config._attn_implementation == "sdpa"


def test_gradient_checkpointing_gives_same_gradients(tiny_processor):
    inputs = paired_inputs(tiny_processor, ["Describe."])
    grads = []
    for checkpointing in (False, True):
        model = tiny_macm(seed=1).train()
        if checkpointing:
            model.activation_checkpointing_enable()
        model(**inputs, labels=inputs["input_ids"]).loss.backward()
        grads.append(model.model.motion_projector.linear_1.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-6)
