"""Convert a LLaVA-OneVision checkpoint into an M-ACM checkpoint.

    python -m modeling_macm.convert_llava_onevision llava-hf/llava-onevision-qwen2-0.5b-ov-hf ./macm-0.5b

The visual pathway keeps every weight of the source (so its logits equal the source model's); the motion projector
starts as a copy of the visual projector, which makes the untrained motion pathway already meaningful: the same
frozen encoder reads the motion frames. The tokenizer gains the `<motion>` placeholder token.
"""

import argparse
import logging
import sys

import torch
from transformers import (
    AutoImageProcessor,
    AutoProcessor,
    AutoTokenizer,
    GenerationConfig,
    LlavaOnevisionForConditionalGeneration,
)

from .configuration_macm import MacmConfig
from .modeling_macm import MacmForConditionalGeneration
from .processing_macm import DEFAULT_CHAT_TEMPLATE, MacmProcessor

__all__ = ["convert_llava_onevision", "main"]

logger = logging.getLogger(__name__)

MOTION_TOKEN = "<motion>"


def _source_chat_template(source: str, tokenizer) -> str:
    try:
        template = AutoProcessor.from_pretrained(source).chat_template
    except Exception as error:  # the source's video processor may need torchvision, which is optional here
        logger.info("Could not load the source processor (%s); using the tokenizer's chat template", error)
        template = None
    return template or tokenizer.chat_template or DEFAULT_CHAT_TEMPLATE


def convert_llava_onevision(source: str, destination: str, dtype: str = "auto") -> MacmForConditionalGeneration:
    """
    Convert `source` (a local LLaVA-OneVision folder or Hub id) and save an M-ACM folder at `destination`.

    Returns:
        [`MacmForConditionalGeneration`]: the converted model (also saved).
    """
    llava = LlavaOnevisionForConditionalGeneration.from_pretrained(source, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(source)
    image_processor = AutoImageProcessor.from_pretrained(source)
    chat_template = _source_chat_template(source, tokenizer)

    if MOTION_TOKEN not in tokenizer.get_vocab():
        tokenizer.add_special_tokens({"additional_special_tokens": [MOTION_TOKEN]}, replace_extra_special_tokens=False)
    motion_token_id = tokenizer.convert_tokens_to_ids(MOTION_TOKEN)
    source_config = llava.config
    vocab_size = source_config.text_config.vocab_size
    if motion_token_id >= vocab_size:
        # The placeholder's embedding row is never read (features replace it) but its id must index the table.
        llava.resize_token_embeddings(motion_token_id + 1)
        vocab_size = llava.config.text_config.vocab_size

    config = MacmConfig(
        text_config=source_config.text_config.to_dict(),
        vision_config=source_config.vision_config.to_dict(),
        video_token_id=source_config.video_token_id,
        motion_token_id=motion_token_id,
        projector_hidden_act=source_config.projector_hidden_act,
        multimodal_projector_bias=source_config.multimodal_projector_bias,
        vision_feature_select_strategy=source_config.vision_feature_select_strategy,
        vision_feature_layer=source_config.vision_feature_layer,
        tie_word_embeddings=source_config.tie_word_embeddings,
        dtype=llava.dtype,
    )
    state_dict = llava.state_dict()
    for name in [key for key in state_dict if key.startswith("model.multi_modal_projector.")]:
        state_dict[name.replace("multi_modal_projector", "motion_projector")] = state_dict[name].clone()

    with torch.device("meta"):
        model = MacmForConditionalGeneration(config)
    model.load_state_dict(state_dict, strict=True, assign=True)
    model.tie_weights()
    model = model.to(llava.dtype).eval()

    generation_config = GenerationConfig.from_dict(llava.generation_config.to_dict())
    for name, value in config.msd_kwargs.items():
        setattr(generation_config, f"msd_{name}", list(value) if isinstance(value, tuple) else value)
    generation_config.msd = False  # the motion projector is untrained until fine-tuned on motion data
    generation_config._from_model_config = False  # otherwise loading rebuilds it from the model config
    model.generation_config = generation_config

    side = config.vision_config.image_size // config.vision_config.patch_size
    processor = MacmProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=chat_template,
        num_image_tokens=side * side,
        motion_token=MOTION_TOKEN,
    )
    model.save_pretrained(destination)
    processor.save_pretrained(destination)
    logger.info(
        "Converted %s -> %s (%.1fM parameters, <motion> = %d, %d tokens per 16-frame clip)",
        source,
        destination,
        sum(p.numel() for p in model.parameters()) / 1e6,
        motion_token_id,
        processor.num_video_tokens(16),
    )
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert a LLaVA-OneVision checkpoint into an M-ACM checkpoint.")
    parser.add_argument("source", help="local LLaVA-OneVision folder or Hub id")
    parser.add_argument("destination", help="output folder")
    parser.add_argument("--dtype", default="auto", help="weights dtype (auto, float32, bfloat16, float16)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    convert_llava_onevision(args.source, args.destination, args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
