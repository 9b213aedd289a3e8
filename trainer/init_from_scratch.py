"""A randomly initialised M-ACM folder to train from scratch: word-level tokenizer, small SigLIP, small Qwen2.

    python -m macm.trainer.init_from_scratch --words words.txt --out ./macm-init [--image-size 96 --patch-size 16]
    python -m macm.trainer.init_from_scratch --synthmotion --out ./macm-init   # SynthMotion's caption grammar

Used for small closed-vocabulary tasks (e.g. SynthMotion), where a word-level vocabulary built from the caption
grammar keeps the model tiny. The folder (config, processor, tokenizer, chat template) is what
`trainer/sft_macm.py --init_from_config true` starts from.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES

__all__ = ["DEFAULT_PROMPTS", "SPECIAL_TOKENS", "build_word_tokenizer", "init_from_scratch", "main"]

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<video>", "<motion>"]
CHAT_WORDS = ["user", "assistant", "system"]
# Instructions the trainer and the Space pair with captions; their words must not fall to <unk>.
DEFAULT_PROMPTS = ["Describe the person's movements in detail.", "Describe the motion in the video."]
_WORD = re.compile(r"\w+|[^\w\s]")


def build_word_tokenizer(words: Iterable[str]):
    """A word-level fast tokenizer: one id per word or punctuation mark, lower-cased, plus the chat specials."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = list(SPECIAL_TOKENS)
    for word in sorted(
        {piece.lower() for text in [*words, *CHAT_WORDS, *DEFAULT_PROMPTS] for piece in _WORD.findall(text)}
    ):
        vocab.append(word)
    backend = Tokenizer(models.WordLevel({token: i for i, token in enumerate(vocab)}, unk_token="<unk>"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(r"\w+|[^\w\s]"), behavior="isolated")]
    )
    backend.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces, tidies punctuation
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        unk_token="<unk>",
        eos_token="<|im_end|>",
        additional_special_tokens=SPECIAL_TOKENS[2:],
    )
    return tokenizer


def init_from_scratch(
    words: Iterable[str],
    out_dir: str | Path,
    image_size: int = 96,
    patch_size: int = 16,
    vision_hidden: int = 128,
    vision_layers: int = 3,
    text_hidden: int = 192,
    text_layers: int = 4,
    text_mlp_ratio: int = 4,
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    seed: int = 0,
    motion_encoder: str = "vision_tower",
    motion_hidden: int = 128,
    motion_layers: int = 2,
):
    """Write an M-ACM folder with random weights, sized for CPU training. Returns `(model, processor)`."""
    import torch
    from transformers.models.siglip import SiglipImageProcessorPil

    from macm.modeling_macm import MacmConfig, MacmForConditionalGeneration, MacmProcessor

    tokenizer = build_word_tokenizer(words)
    config = MacmConfig(
        text_config={
            "model_type": "qwen2",
            "hidden_size": text_hidden,
            "num_hidden_layers": text_layers,
            "num_attention_heads": max(1, text_hidden // 32),
            "num_key_value_heads": max(1, text_hidden // 64),
            "intermediate_size": text_mlp_ratio * text_hidden,
            "vocab_size": len(tokenizer),
            "max_position_embeddings": 1024,
            "tie_word_embeddings": True,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": vision_hidden,
            "num_hidden_layers": vision_layers,
            "num_attention_heads": max(1, vision_hidden // 32),
            "intermediate_size": 4 * vision_hidden,
            "image_size": image_size,
            "patch_size": patch_size,
        },
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        motion_token_id=tokenizer.convert_tokens_to_ids("<motion>"),
        tie_word_embeddings=True,
        num_keyframes=num_keyframes,
        motion_frame_style="mask",
        motion_encoder=motion_encoder,
        motion_encoder_hidden_size=motion_hidden,
        motion_encoder_layers=motion_layers,
        motion_encoder_heads=max(1, motion_hidden // 32),
    )
    torch.manual_seed(seed)
    model = MacmForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    side = image_size // patch_size
    processor = MacmProcessor(
        image_processor=SiglipImageProcessorPil(size={"height": image_size, "width": image_size}),
        tokenizer=tokenizer,
        num_image_tokens=side * side,
    )
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    logger.info(
        "Initialised %s: %.2fM parameters, vocabulary %d, %d tokens per %d-frame clip",
        out_dir,
        sum(p.numel() for p in model.parameters()) / 1e6,
        len(tokenizer),
        processor.num_video_tokens(num_keyframes),
        num_keyframes,
    )
    return model, processor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    vocabulary = parser.add_mutually_exclusive_group(required=True)
    vocabulary.add_argument("--words", type=Path, help="text file: the vocabulary's words (any layout)")
    vocabulary.add_argument(
        "--synthmotion", action="store_true", help="use SynthMotion's caption grammar as the vocabulary"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--patch-size", type=int, default=16)
    parser.add_argument("--vision-hidden", type=int, default=128)
    parser.add_argument("--vision-layers", type=int, default=3)
    parser.add_argument("--text-hidden", type=int, default=192)
    parser.add_argument("--text-layers", type=int, default=4)
    parser.add_argument("--text-mlp-ratio", type=int, default=4, help="LM intermediate size / hidden size")
    parser.add_argument("--num-keyframes", type=int, default=DEFAULT_NUM_KEYFRAMES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--motion-encoder",
        choices=("vision_tower", "joints"),
        default="vision_tower",
        help="what reads the motion pathway: the motion frames through the tower, or the joint sequence",
    )
    parser.add_argument("--motion-hidden", type=int, default=128, help="width of the joints motion encoder")
    parser.add_argument("--motion-layers", type=int, default=2, help="transformer layers of the joints encoder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.synthmotion:
        from macm.processing.synth import caption_vocabulary

        words = caption_vocabulary()
    else:
        words = args.words.read_text().split()
    init_from_scratch(
        words, args.out, args.image_size, args.patch_size, args.vision_hidden, args.vision_layers,
        args.text_hidden, args.text_layers, args.text_mlp_ratio, args.num_keyframes, args.seed,
        args.motion_encoder, args.motion_hidden, args.motion_layers,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
