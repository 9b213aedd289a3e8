"""MSD inside `generate`: both pathways stacked in one batch and one KV cache, checked against a reference."""

import threading

import pytest
import torch
from tiny_models import paired_inputs, sharp_tiny_macm, tiny_macm
from transformers import GenerationMixin, LogitsProcessorList, TextIteratorStreamer

from macm.modeling_macm.msd import UnbatchedMotionSynergeticLogitsProcessor

TEXTS = ["Describe.", "Which hand is raised, the left or the right one?"]
NEW = 8


@pytest.fixture(scope="module")
def model():
    return sharp_tiny_macm()


@pytest.fixture(scope="module")
def inputs(tiny_processor):
    return paired_inputs(tiny_processor, TEXTS)


def visual_only(inputs):
    return {k: v for k, v in inputs.items() if k != "pixel_values_motion"}


def reference_generate(model, inputs, **kwargs):
    reference = UnbatchedMotionSynergeticLogitsProcessor(
        model, inputs["input_ids"], inputs["pixel_values_motion"], inputs["attention_mask"]
    )
    return model.generate(**visual_only(inputs), logits_processor=LogitsProcessorList([reference]), **kwargs)


def test_property_4_msd_off_is_plain_decoding(model, inputs):
    placeholders = [model.config.video_token_id, model.config.motion_token_id]
    plain = GenerationMixin.generate(
        model, **visual_only(inputs), max_new_tokens=NEW, do_sample=False, suppress_tokens=placeholders
    )
    off = model.generate(**inputs, msd=False, max_new_tokens=NEW, do_sample=False)
    torch.testing.assert_close(off, plain, rtol=0, atol=0)


def test_property_1_identical_pathways_give_vanilla_greedy(inputs):
    model = tiny_macm(seed=4)
    model.model.motion_projector.load_state_dict(model.model.multi_modal_projector.state_dict())
    same = dict(inputs, pixel_values_motion=inputs["pixel_values_videos"].clone())
    vanilla = model.generate(**visual_only(same), max_new_tokens=NEW, do_sample=False)
    msd = model.generate(**same, msd=True, max_new_tokens=NEW, do_sample=False)
    torch.testing.assert_close(msd, vanilla, rtol=0, atol=0)


def test_greedy_matches_reference(model, inputs):
    kwargs = {"max_new_tokens": NEW, "do_sample": False, "return_dict_in_generate": True, "output_scores": True}
    batched = model.generate(**inputs, msd=True, **kwargs)
    reference = reference_generate(model, inputs, **kwargs)
    torch.testing.assert_close(batched.sequences, reference.sequences, rtol=0, atol=0)
    for ours, theirs in zip(batched.scores, reference.scores, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-5)
    assert not torch.equal(batched.sequences, model.generate(**visual_only(inputs), max_new_tokens=NEW)), (
        "MSD should change at least one token of this random model, or the comparison proves little"
    )


def test_sampling_matches_reference_and_pairs_share_tokens(model, inputs):
    kwargs = {"max_new_tokens": NEW, "do_sample": True, "top_k": 0, "temperature": 1.0}
    torch.manual_seed(123)
    batched = model.generate(**inputs, msd=True, **kwargs)
    torch.manual_seed(123)
    reference = reference_generate(model, inputs, **kwargs)
    torch.testing.assert_close(batched, reference, rtol=0, atol=0)


def test_beam_search_matches_reference(model, inputs):
    kwargs = {
        "max_new_tokens": NEW,
        "num_beams": 3,
        "do_sample": False,
        "return_dict_in_generate": True,
        "output_scores": True,
    }
    batched = model.generate(**inputs, msd=True, **kwargs)
    reference = reference_generate(model, inputs, **kwargs)
    torch.testing.assert_close(batched.sequences, reference.sequences, rtol=0, atol=0)
    torch.testing.assert_close(batched.sequences_scores, reference.sequences_scores, rtol=0, atol=1e-5)


def test_left_padded_msd_batch_equals_each_sample_alone(model, tiny_processor, inputs):
    batched = model.generate(**inputs, msd=True, max_new_tokens=NEW, do_sample=False)[:, -NEW:]
    for i, text in enumerate(TEXTS):
        alone = paired_inputs(tiny_processor, [text], seed=i)
        single = model.generate(**alone, msd=True, max_new_tokens=NEW, do_sample=False)[:, -NEW:]
        torch.testing.assert_close(batched[i : i + 1], single, rtol=0, atol=0)


def test_diagnostics(model, inputs):
    out = model.generate(
        **inputs, msd=True, max_new_tokens=NEW, do_sample=False, return_dict_in_generate=True, output_msd=True
    )
    diagnostics = out.msd
    generated = out.sequences[:, inputs["input_ids"].shape[1] :]
    assert diagnostics.step_synergy.shape == generated.shape
    torch.testing.assert_close(diagnostics.msd_top, generated, rtol=0, atol=0)
    torch.testing.assert_close(diagnostics.changed, diagnostics.msd_top != diagnostics.visual_top, rtol=0, atol=0)
    with torch.no_grad():
        first = model(**inputs, pathways="both").logits[:, -1]
    torch.testing.assert_close(diagnostics.visual_top[:, 0], first[:2].argmax(-1), rtol=0, atol=0)
    torch.testing.assert_close(diagnostics.motion_top[:, 0], first[2:].argmax(-1), rtol=0, atol=0)


def test_per_call_parameters_override_the_config(model, inputs):
    default = model.generate(**inputs, msd=True, max_new_tokens=NEW, do_sample=False)
    contrastive = model.generate(**inputs, msd=True, msd_synergy="contrastive", max_new_tokens=NEW, do_sample=False)
    model.generation_config.msd_synergy = "contrastive"
    try:
        from_config = model.generate(**inputs, msd=True, max_new_tokens=NEW, do_sample=False)
    finally:
        model.generation_config.msd_synergy = None
    torch.testing.assert_close(from_config, contrastive, rtol=0, atol=0)
    assert not torch.equal(default, contrastive)


def test_streaming_and_stop_strings(model, tiny_processor, inputs):
    tokenizer = tiny_processor.tokenizer
    # keep to printable ASCII (ids 0..93 of the byte-level vocabulary) so every token decodes to one character
    ascii_only = {"suppress_tokens": list(range(94, model.config.text_config.vocab_size))}
    single = {k: v[:1] for k, v in inputs.items()}
    prompt_length = single["input_ids"].shape[1]
    full = model.generate(**single, msd=True, max_new_tokens=NEW, do_sample=False, **ascii_only)[0, prompt_length:]
    text = tokenizer.decode(full)
    assert len(text) == NEW and text.isprintable()

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
    kwargs = dict(single, msd=True, max_new_tokens=NEW, do_sample=False, streamer=streamer, **ascii_only)
    thread = threading.Thread(target=model.generate, kwargs=kwargs)
    thread.start()
    streamed = "".join(streamer)
    thread.join()
    assert streamed == text

    stop = text[3]
    stopped = model.generate(
        **single, msd=True, max_new_tokens=NEW, do_sample=False, stop_strings=[stop], tokenizer=tokenizer, **ascii_only
    )
    assert tokenizer.decode(stopped[0, prompt_length:]) == text[: text.index(stop) + 1]


def test_msd_argument_errors(model, inputs):
    with pytest.raises(ValueError, match="pixel_values_motion"):
        model.generate(**visual_only(inputs), msd=True, max_new_tokens=2)
    with pytest.raises(ValueError, match="`beta`"):
        model.generate(**inputs, msd=True, msd_beta=-1.0, max_new_tokens=2)
    with pytest.raises(ValueError, match="`alpha`"):
        model.generate(**inputs, msd=True, msd_alpha=[1.0, 2.0], max_new_tokens=2)
    with pytest.raises(ValueError, match="return_dict_in_generate"):
        model.generate(**inputs, msd=True, output_msd=True, max_new_tokens=2)
