"""The embedded SynthMotion checkpoint: loads through the Auto classes with remote code and captions a fresh clip."""

from __future__ import annotations

import json
from pathlib import Path

CHECKPOINT = Path(__file__).resolve().parents[1] / "space" / "synthmotion-tiny"


def test_checkpoint_is_small_and_complete():
    files = {path.name for path in CHECKPOINT.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "tokenizer.json"} <= files
    assert sum(path.stat().st_size for path in CHECKPOINT.rglob("*") if path.is_file()) <= 25 * 2**20
    config = json.loads((CHECKPOINT / "config.json").read_text())
    assert config["auto_map"]["AutoModel"].endswith("MacmForConditionalGeneration")


def test_checkpoint_captions_a_held_out_clip():
    """Clip 7 of seed 4242 (never used for training) through `AutoModel`/`AutoProcessor` with remote code."""
    from macm.processing.caption import DEFAULT_QUESTION, load_captioner
    from macm.processing.synth import SynthConfig, generate_clip, parse_caption

    model, processor = load_captioner(CHECKPOINT)
    assert type(model).__name__ == "MacmForConditionalGeneration"
    clip = generate_clip(7, SynthConfig(seed=4242))
    picks = range(0, 16, 2)
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": DEFAULT_QUESTION}]}],
        add_generation_prompt=True,
    )
    inputs = processor(
        text=prompt, videos=[[clip.rgb[i] for i in picks]], motion_frames=[[clip.motion[i] for i in picks]]
    )
    output = model.generate(**inputs, msd=True, max_new_tokens=72, do_sample=False)
    caption = processor.tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    # The checkpoint writes well-formed captions of the grammar; it does not yet ground them in the clip (see its
    # card), so which actions it names is not asserted here: benchmarks/synthmotion.py measures that.
    assert parse_caption(caption), f"the caption names no action of the grammar: {caption!r}"
