"""A tiny LLaVA-OneVision, converted by the CLI, keeps its visual-pathway logits."""

import subprocess
import sys

import pytest
import torch
from tiny_models import caption_prompt, random_clip, tiny_image_processor, tiny_llava, tiny_tokenizer

from macm.modeling_macm import MacmForConditionalGeneration, MacmProcessor


@pytest.fixture(scope="module")
def converted(tmp_path_factory, repo_root):
    source = tmp_path_factory.mktemp("llava")
    destination = tmp_path_factory.mktemp("macm")
    llava = tiny_llava(seed=3)
    llava.save_pretrained(source)
    tiny_tokenizer(with_motion=False).save_pretrained(source)
    tiny_image_processor().save_pretrained(source)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "modeling_macm.convert_llava_onevision",
            str(source),
            str(destination),
            "--dtype",
            "float32",
        ],
        cwd=repo_root,
        check=True,
        capture_output=True,
    )
    return llava, destination


def _llava_inputs(processor: MacmProcessor, texts, frame_seeds):
    prompts = [caption_prompt(processor, text) for text in texts]
    inputs = processor(text=prompts, videos=[random_clip(seed) for seed in frame_seeds])
    return inputs


@pytest.mark.parametrize("texts", [["Describe."], ["Describe.", "Which hand waves, left or right?"]])
def test_visual_pathway_logits_equal_source(converted, texts):
    llava, destination = converted
    model = MacmForConditionalGeneration.from_pretrained(destination).eval()
    processor = MacmProcessor.from_pretrained(destination)
    inputs = _llava_inputs(processor, texts, range(len(texts)))
    with torch.no_grad():
        expected = llava(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            pixel_values_videos=inputs["pixel_values_videos"],
        ).logits
        actual = model(**inputs, pathways="visual").logits
    assert (actual - expected).abs().max().item() <= 1e-5


def test_converted_folder_contents(converted):
    llava, destination = converted
    model = MacmForConditionalGeneration.from_pretrained(destination)
    processor = MacmProcessor.from_pretrained(destination)
    names = {path.name for path in destination.iterdir()}
    assert {"model.safetensors", "config.json", "generation_config.json", "modeling_macm.py", "msd.py"} <= names
    assert {"configuration_macm.py", "processing_macm.py", "tokenizer.json", "processor_config.json"} <= names
    assert model.config.auto_map["AutoModel"] == "modeling_macm.MacmForConditionalGeneration"
    assert processor.tokenizer.convert_tokens_to_ids("<motion>") == model.config.motion_token_id
    assert processor.chat_template is not None and "<video>" in caption_prompt(processor)
    assert model.generation_config.msd is False and model.generation_config.msd_beta == 0.2
    # the motion projector starts as a copy of the visual projector
    for name, visual in model.model.multi_modal_projector.state_dict().items():
        torch.testing.assert_close(model.model.motion_projector.state_dict()[name], visual, rtol=0, atol=0)
    source = llava.state_dict()
    for name, tensor in model.state_dict().items():
        if "motion_projector" not in name:
            torch.testing.assert_close(tensor, source[name], rtol=0, atol=0)
