"""Tiny random M-ACM / LLaVA-OneVision models, tokenizers and clips built in code (nothing is downloaded)."""

from __future__ import annotations

import numpy as np
import torch
from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, Qwen2Tokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode
from transformers.models.siglip import SiglipImageProcessorPil

from macm.modeling_macm import MacmConfig, MacmForConditionalGeneration, MacmProcessor
from macm.modeling_macm.processing_macm import DEFAULT_CHAT_TEMPLATE

SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", "<video>", "<motion>"]
IMAGE_SIZE, PATCH_SIZE = 32, 8
NUM_IMAGE_TOKENS = (IMAGE_SIZE // PATCH_SIZE) ** 2
VOCAB_SIZE = 320


def tiny_tokenizer(with_motion: bool = True) -> Qwen2Tokenizer:
    """A byte-level Qwen2 tokenizer (one token per byte) with the chat and placeholder tokens."""
    vocab = {char: index for index, char in enumerate(bytes_to_unicode().values())}
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    specials = SPECIAL_TOKENS if with_motion else [t for t in SPECIAL_TOKENS if t != "<motion>"]
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    return tokenizer


def tiny_image_processor() -> SiglipImageProcessorPil:
    return SiglipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})


def tiny_processor() -> MacmProcessor:
    return MacmProcessor(
        image_processor=tiny_image_processor(), tokenizer=tiny_tokenizer(), num_image_tokens=NUM_IMAGE_TOKENS
    )


def text_config(**overrides) -> dict:
    config = {
        "model_type": "qwen2",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "vocab_size": VOCAB_SIZE,
        "max_position_embeddings": 512,
    }
    return {**config, **overrides}


def vision_config(**overrides) -> dict:
    config = {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "image_size": IMAGE_SIZE,
        "patch_size": PATCH_SIZE,
    }
    return {**config, **overrides}


def tiny_macm_config(**overrides) -> MacmConfig:
    tokenizer = tiny_tokenizer()
    kwargs = {
        "text_config": text_config(),
        "vision_config": vision_config(),
        "video_token_id": tokenizer.convert_tokens_to_ids("<video>"),
        "motion_token_id": tokenizer.convert_tokens_to_ids("<motion>"),
    }
    return MacmConfig(**{**kwargs, **overrides})


def tiny_macm(seed: int = 0, **overrides) -> MacmForConditionalGeneration:
    torch.manual_seed(seed)
    return MacmForConditionalGeneration(tiny_macm_config(**overrides)).eval()


def sharp_tiny_macm(seed: int = 4) -> MacmForConditionalGeneration:
    """A tiny M-ACM with larger logits, so decoding choices are not near-ties between code paths."""
    model = tiny_macm(seed=seed)
    with torch.no_grad():
        model.lm_head.weight.mul_(8)
    return model


def tiny_llava(seed: int = 0) -> LlavaOnevisionForConditionalGeneration:
    tokenizer = tiny_tokenizer(with_motion=False)
    config = LlavaOnevisionConfig(
        text_config=text_config(),
        vision_config=vision_config(),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        image_token_index=0,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    return LlavaOnevisionForConditionalGeneration(config).eval()


def random_clip(seed: int, num_frames: int = 3, height: int = 40, width: int = 48) -> np.ndarray:
    """`(F, H, W, 3)` uint8 frames of noise."""
    return np.random.default_rng(seed).integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8)


def caption_prompt(processor: MacmProcessor, text: str = "Describe the motion.") -> str:
    return processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": text}]}],
        add_generation_prompt=True,
    )


def paired_inputs(processor: MacmProcessor, texts: list[str], num_frames: int = 3, seed: int = 0):
    """A left-padded batch with keyframes and motion frames, one clip per prompt."""
    prompts = [caption_prompt(processor, text) for text in texts]
    videos = [random_clip(seed + i, num_frames) for i in range(len(texts))]
    motion = [random_clip(seed + 100 + i, num_frames) for i in range(len(texts))]
    return processor(text=prompts, videos=videos, motion_frames=motion)


def make_tiny_hmi_dataset(root, num_clips: int = 4, num_frames: int = 2, size: int = 24) -> None:
    """An HMI-format folder: metadata.jsonl rows with captions, QA and pre-rendered frames, and a card."""
    import json
    from pathlib import Path

    from PIL import Image

    root = Path(root)
    (root / "train").mkdir(parents=True, exist_ok=True)
    sides = ["left", "right"]
    rows = []
    for clip in range(num_clips):
        frames = root / "frames" / f"clip{clip}"
        frames.mkdir(parents=True, exist_ok=True)
        keyframes, motion = [], []
        for f in range(num_frames):
            rgb = random_clip(clip * 10 + f, num_frames=1, height=size, width=size)[0]
            Image.fromarray(rgb).save(frames / f"keyframe_{f:02d}.png")
            Image.fromarray(255 - rgb).save(frames / f"motion_{f:02d}.png")
            keyframes.append(f"frames/clip{clip}/keyframe_{f:02d}.png")
            motion.append(f"frames/clip{clip}/motion_{f:02d}.png")
        side = sides[clip % 2]
        rows.append(
            {
                "id": f"clip{clip}",
                "file_name": f"videos/clip{clip}.mp4",
                "video": f"videos/clip{clip}.mp4",
                "caption": f"The person raises the {side} arm.",
                "qa": [{"question": "Which arm moves?", "answer": side, "type": "open", "dimension": "details"}],
                "keyframe_files": keyframes,
                "motion_files": motion,
            }
        )
    with open(root / "train" / "metadata.jsonl", "w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: train/metadata.jsonl\n---\n"
        "# tiny HMI-format dataset\n"
    )
