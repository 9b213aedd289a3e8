import torch
from tiny_models import paired_inputs

TEXTS = ["Describe.", "Which hand is raised, the left or the right one?"]


def _visual(inputs):
    return {k: v for k, v in inputs.items() if k != "pixel_values_motion"}


def test_greedy_with_and_without_kv_cache(tiny_model, tiny_processor):
    inputs = _visual(paired_inputs(tiny_processor, TEXTS))
    cached = tiny_model.generate(**inputs, max_new_tokens=8, do_sample=False, use_cache=True)
    uncached = tiny_model.generate(**inputs, max_new_tokens=8, do_sample=False, use_cache=False)
    torch.testing.assert_close(cached, uncached, rtol=0, atol=0)


def test_left_padded_batch_equals_each_sample_alone(tiny_model, tiny_processor):
    batch = _visual(paired_inputs(tiny_processor, TEXTS))
    assert (batch["attention_mask"][0] == 0).any(), "the shorter prompt must be left-padded"
    batched = tiny_model.generate(**batch, max_new_tokens=8, do_sample=False)[:, -8:]
    for i, text in enumerate(TEXTS):
        alone = _visual(paired_inputs(tiny_processor, [text], seed=i))
        single = tiny_model.generate(**alone, max_new_tokens=8, do_sample=False)[:, -8:]
        torch.testing.assert_close(batched[i : i + 1], single, rtol=0, atol=0)


def test_plain_generate_with_paired_inputs_decodes_the_visual_pathway(tiny_model, tiny_processor):
    inputs = paired_inputs(tiny_processor, TEXTS)
    with_motion = tiny_model.generate(**inputs, max_new_tokens=6, do_sample=False)
    without = tiny_model.generate(**_visual(inputs), max_new_tokens=6, do_sample=False)
    torch.testing.assert_close(with_motion, without, rtol=0, atol=0)
