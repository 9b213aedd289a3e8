"""The checks transformers runs on its own models (`ModelTesterMixin` / `GenerationTesterMixin` style), on a tiny
M-ACM, with the visual pathway alone and with both pathways stacked (`2B` rows)."""

import pytest
import torch
from tiny_models import VOCAB_SIZE, paired_inputs, sharp_tiny_macm, tiny_macm

from macm.modeling_macm import MacmForConditionalGeneration

TEXTS = ["Describe.", "Which hand is raised, the left or the right one?"]
NUM_LAYERS = 2


@pytest.fixture(scope="module")
def inputs(tiny_processor):
    return paired_inputs(tiny_processor, TEXTS)


@pytest.fixture(scope="module")
def model():
    return sharp_tiny_macm()


def labels_of(inputs):
    return inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)


@pytest.mark.parametrize("tied", [False, True])
def test_save_load_round_trip(tmp_path, inputs, tied):
    model = tiny_macm(seed=1, tie_word_embeddings=tied)
    model.save_pretrained(tmp_path)
    loaded = MacmForConditionalGeneration.from_pretrained(tmp_path).eval()
    for field in ("video_token_id", "motion_token_id", "tie_word_embeddings", "loss_pathways", "msd_alpha"):
        assert getattr(loaded.config, field) == getattr(model.config, field), field
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0, msg=name)
    assert (loaded.lm_head.weight is loaded.get_input_embeddings().weight) == tied
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(**inputs, pathways="both").logits, model(**inputs, pathways="both").logits, rtol=0, atol=0
        )


def test_output_attentions_and_hidden_states(inputs):
    model = tiny_macm(attn_implementation="eager")
    rows, length = 2 * inputs["input_ids"].shape[0], inputs["input_ids"].shape[1]
    with torch.no_grad():
        out = model(**inputs, pathways="both", output_attentions=True, output_hidden_states=True)
        plain = model(**inputs, pathways="both")
    assert len(out.attentions) == NUM_LAYERS
    assert all(a.shape == (rows, 4, length, length) for a in out.attentions)
    # causal (checked on the unpadded rows, each pathway's): no weight on later positions, each query sums to one
    unpadded = torch.cat([inputs["attention_mask"]] * 2).bool().all(-1)
    first_layer = out.attentions[0][unpadded]
    assert unpadded.sum() == 2 and torch.all(first_layer.triu(diagonal=1) == 0)
    torch.testing.assert_close(first_layer.sum(-1), torch.ones(2, 4, length))
    assert len(out.hidden_states) == NUM_LAYERS + 1
    assert all(h.shape == (rows, length, 64) for h in out.hidden_states)
    torch.testing.assert_close(model.lm_head(out.hidden_states[-1]), plain.logits)
    assert plain.attentions is None and plain.hidden_states is None


def test_eager_and_sdpa_attention_agree(inputs):
    logits = {}
    for implementation in ("eager", "sdpa"):
        model = tiny_macm(seed=2, attn_implementation=implementation)
        with torch.no_grad():
            logits[implementation] = model(**inputs, pathways="both").logits
    real = torch.cat([inputs["attention_mask"]] * 2).bool()  # padded positions attend to nothing: not compared
    torch.testing.assert_close(logits["sdpa"][real], logits["eager"][real], rtol=1e-4, atol=1e-5)


def test_resize_token_embeddings_keeps_placeholders_working(inputs):
    model = tiny_macm(seed=3)
    with torch.no_grad():
        before = model(**inputs, pathways="both").logits
    model.resize_token_embeddings(VOCAB_SIZE + 13, pad_to_multiple_of=8)
    new_size = model.get_input_embeddings().weight.shape[0]
    assert new_size == VOCAB_SIZE + 16 == model.config.text_config.vocab_size
    with torch.no_grad():
        after = model(**inputs, pathways="both")
        loss = model(**inputs, labels=labels_of(inputs)).loss
    assert after.logits.shape[-1] == new_size and torch.isfinite(loss)
    # the old vocabulary, the placeholder positions included, reads the same features
    torch.testing.assert_close(after.logits[..., :VOCAB_SIZE], before, rtol=1e-5, atol=1e-5)
    generated = model.generate(**inputs, msd=True, max_new_tokens=4, do_sample=False)
    new = generated[:, inputs["input_ids"].shape[1] :]
    assert not torch.isin(new, torch.tensor([model.config.video_token_id, model.config.motion_token_id])).any()


def test_gradient_checkpointing_gives_the_same_loss_and_gradients(inputs):
    results = []
    for checkpointing in (False, True):
        model = tiny_macm(seed=5).train()
        if checkpointing:
            model.activation_checkpointing_enable()
        loss = model(**inputs, labels=labels_of(inputs), use_cache=False).loss
        loss.backward()
        results.append((loss.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}))
    (loss_off, grads_off), (loss_on, grads_on) = results
    assert model.is_activation_checkpointing
    torch.testing.assert_close(loss_on, loss_off, rtol=0, atol=0)
    assert grads_on.keys() == grads_off.keys()
    for prefix in ("model.vision_tower.", "model.multi_modal_projector.", "model.motion_projector.", "lm_head."):
        assert any(name.startswith(prefix) for name in grads_on), prefix
    for name, grad in grads_off.items():
        torch.testing.assert_close(grads_on[name], grad, rtol=1e-5, atol=1e-6, msg=name)


DECODING = {
    "greedy": {"do_sample": False},
    "sample": {"do_sample": True, "top_k": 20, "temperature": 0.8},
    "beam": {"do_sample": False, "num_beams": 2},
}


@pytest.mark.parametrize("msd", [False, True])
@pytest.mark.parametrize("decoding", DECODING)
def test_left_padded_generation_with_and_without_cache(model, inputs, decoding, msd):
    assert (inputs["attention_mask"][0] == 0).any(), "the first prompt must be left-padded"
    outputs = []
    for use_cache in (True, False):
        torch.manual_seed(0)
        outputs.append(model.generate(**inputs, msd=msd, use_cache=use_cache, max_new_tokens=6, **DECODING[decoding]))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_static_cache_matches_the_dynamic_cache(model, inputs):
    dynamic = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    static = model.generate(**inputs, max_new_tokens=6, do_sample=False, cache_implementation="static")
    torch.testing.assert_close(static, dynamic, rtol=0, atol=0)


def test_msd_refuses_a_static_cache(model, inputs):
    from transformers import StaticCache

    with pytest.raises(ValueError, match="`msd=True` does not support static caches.*2B rows"):
        model.generate(**inputs, msd=True, max_new_tokens=2, cache_implementation="static")
    cache = StaticCache(config=model.config.get_text_config(decoder=True), max_cache_len=128)
    with pytest.raises(ValueError, match="dynamic cache"):
        model.generate(**inputs, msd=True, max_new_tokens=2, past_key_values=cache)
