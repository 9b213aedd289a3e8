"""Calls transformers users and libraries make on LLaVA-OneVision, made on M-ACM: a prompt with both placeholder
kinds (each sample a `<video>` clip and a `<motion>` clip) and the paired `<video>`-only prompt."""

import pytest
import torch
from tiny_models import caption_prompt, paired_inputs, random_clip, tiny_macm
from transformers import Qwen2ForCausalLM

from macm.modeling_macm import MacmForConditionalGeneration

TEXTS = ["Describe.", "Which arm moves?", "Describe the legs."]


@pytest.fixture(scope="module")
def mixed_inputs(tiny_processor):
    """3 clips x 2 frames, each prompt holding one `<video>` and one `<motion>` placeholder."""
    prompts = [caption_prompt(tiny_processor, text).replace("<video>", "<video><motion>") for text in TEXTS]
    videos = [random_clip(i, num_frames=2) for i in range(3)]
    motion = [random_clip(10 + i, num_frames=2) for i in range(3)]
    return tiny_processor(text=prompts, videos=videos, motion_frames=motion)


@pytest.mark.parametrize("pathways", [None, "both"])
def test_return_dict_false_returns_the_same_values_as_a_tuple(tiny_model, tiny_processor, mixed_inputs, pathways):
    inputs = mixed_inputs if pathways is None else paired_inputs(tiny_processor, TEXTS)
    with torch.no_grad():
        as_dict = tiny_model(**inputs, pathways=pathways)
        as_tuple = tiny_model(**inputs, pathways=pathways, return_dict=False)
        base_tuple = tiny_model.model(**inputs, pathways=pathways, return_dict=False)
    assert isinstance(as_tuple, tuple) and isinstance(base_tuple, tuple)
    expected = as_dict.to_tuple()
    assert len(as_tuple) == len(expected)
    for got, want in zip(as_tuple, expected, strict=True):
        if isinstance(want, torch.Tensor):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
        else:  # the KV cache
            assert type(got) is type(want)
    torch.testing.assert_close(tiny_model.lm_head(base_tuple[0]), as_dict.logits, rtol=0, atol=0)


def test_config_return_dict_false_is_honoured(tiny_processor):
    model = tiny_macm(return_dict=False)
    inputs = paired_inputs(tiny_processor, TEXTS[:1])
    with torch.no_grad():
        out = model(**inputs, pathways="both", use_cache=False)
    assert isinstance(out, tuple) and out[0].shape[0] == 2


@pytest.mark.parametrize("prompt", ["mixed", "paired"])
def test_generate_from_inputs_embeds_equals_generate_from_input_ids(tiny_model, tiny_processor, mixed_inputs, prompt):
    inputs = mixed_inputs if prompt == "mixed" else paired_inputs(tiny_processor, TEXTS)
    ids = inputs["input_ids"]
    from_ids = tiny_model.generate(**inputs, max_new_tokens=4, do_sample=False)
    from_embeds = tiny_model.generate(
        **inputs, inputs_embeds=tiny_model.get_input_embeddings()(ids), max_new_tokens=4, do_sample=False
    )
    torch.testing.assert_close(from_embeds, from_ids, rtol=0, atol=0)


def test_forward_finds_placeholders_in_inputs_embeds(tiny_model, mixed_inputs):
    inputs = dict(mixed_inputs)
    embeds = tiny_model.get_input_embeddings()(inputs.pop("input_ids"))
    with torch.no_grad():
        from_ids = tiny_model(**mixed_inputs).logits
        from_embeds = tiny_model(**inputs, inputs_embeds=embeds).logits
    torch.testing.assert_close(from_embeds, from_ids, rtol=0, atol=0)


def test_msd_refuses_inputs_embeds_with_the_reason(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, TEXTS[:1])
    embeds = tiny_model.get_input_embeddings()(inputs["input_ids"])
    with pytest.raises(ValueError, match=r"`msd=True` does not take `inputs_embeds`.*built from `input_ids`"):
        tiny_model.generate(**inputs, inputs_embeds=embeds, msd=True, max_new_tokens=2)


def test_tied_lm_head_is_in_the_tensor_parallel_plan(tiny_model):
    plan = tiny_model.tp_plan
    assert plan["lm_head"] == Qwen2ForCausalLM._tp_plan["lm_head"] == "colwise_gather_output"
    for target, source in MacmForConditionalGeneration._tied_weights_keys.items():
        for name in (target, source):
            assert name.rsplit(".", 1)[0] in plan, f"{name} is tied but has no tensor-parallel rule"


def test_labels_with_both_placeholder_kinds_are_refused_naming_the_rule_and_the_fix(tiny_model, mixed_inputs):
    labels = mixed_inputs["input_ids"].masked_fill(mixed_inputs["attention_mask"] == 0, -100)
    with torch.no_grad():
        tiny_model(**mixed_inputs)  # the same inputs run without labels
    rule = r"builds its rows from a <video>-only prompt .* already holds 27 <motion> tokens"
    fix = r"Write the prompt with <video> only and pass the motion frames as `pixel_values_motion`"
    with pytest.raises(ValueError, match=f"pathways='both' {rule}.*{fix}"):
        tiny_model(**mixed_inputs, labels=labels)
    for pathways in ("visual", "motion"):
        with pytest.raises(ValueError, match=f"pathways='{pathways}' {rule}"):
            tiny_model(**mixed_inputs, labels=labels, pathways=pathways)


def test_labels_on_the_video_only_prompt_train_both_pathways(tiny_model, tiny_processor):
    """The fix the refusal names: the same clips, `<video>` only in the prompt, motion frames paired."""
    prompts = [caption_prompt(tiny_processor, text) for text in TEXTS]
    inputs = tiny_processor(
        text=prompts,
        videos=[random_clip(i, num_frames=2) for i in range(3)],
        motion_frames=[random_clip(10 + i, num_frames=2) for i in range(3)],
    )
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    with torch.no_grad():
        out = tiny_model(**inputs, labels=labels)
    assert out.logits.shape[0] == 6 and torch.isfinite(out.loss)
    assert out.visual_loss is not None and out.motion_loss is not None
