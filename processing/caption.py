"""Caption a clip with M-ACM: the motion pathway's output through the processor into `generate`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .keyframes import DEFAULT_NUM_KEYFRAMES
from .motion_frames import MotionFrameSettings
from .pipeline import MotionResult

__all__ = [
    "CaptionResult",
    "DEFAULT_QUESTION",
    "caption_motion",
    "checkpoint_motion_settings",
    "load_captioner",
    "motion_processor_inputs",
]

# the instruction `macm.trainer` pairs with every training caption (`trainer/data.py` CAPTION_QUESTION): a checkpoint
# answers it best, and a word-level vocabulary (the SynthMotion checkpoints) knows all of its words
DEFAULT_QUESTION = "Describe the person's movements in detail."


@dataclass
class CaptionResult:
    """A caption and, when MSD was on, what MSD did to it.

    Args:
        caption (`str`): the decoded caption.
        msd (`bool`): MSD was used.
        tokens (`list[str]`): the generated tokens as text pieces.
        changed (`list[bool]`, *optional*): per token, MSD's choice differs from the visual pathway's.
        step_synergy (`list[float]`, *optional*): per token, MSD's step synergy S_T.
        seconds (`float`): generation time.
    """

    caption: str
    msd: bool
    tokens: list[str] = field(default_factory=list)
    changed: list[bool] | None = None
    step_synergy: list[float] | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def load_captioner(model_path: str | Path, dtype: str = "float32"):
    """Load an M-ACM checkpoint (local folder or Hub id) and its processor with `trust_remote_code`."""
    from transformers import AutoModel, AutoProcessor

    model = AutoModel.from_pretrained(str(model_path), trust_remote_code=True, dtype=dtype).eval()
    processor = AutoProcessor.from_pretrained(str(model_path), trust_remote_code=True)
    return model, processor


def checkpoint_motion_settings(
    config, num_keyframes: int | None = None, motion_frame_style: str | None = None
) -> tuple[int, MotionFrameSettings]:
    """The keyframe count and motion-frame settings a checkpoint was trained with; arguments that are not `None`
    override them (a CLI flag, a Space control)."""
    keyframes = num_keyframes if num_keyframes is not None else getattr(config, "num_keyframes", DEFAULT_NUM_KEYFRAMES)
    return keyframes, MotionFrameSettings.from_config(config, style=motion_frame_style)


def motion_processor_inputs(config, result: MotionResult) -> dict:
    """The processor's motion arguments for one clip: its motion frames, or, for a model whose motion pathway reads
    joints (`motion_encoder="joints"`), its keyframes' COCO-17 keypoints."""
    if getattr(config, "motion_encoder", "vision_tower") == "joints":
        return {"motion_joints": [result.keyframe_keypoints]}
    return {"motion_frames": [result.motion_frames]}


def _token_pieces(tokenizer, ids: list[int]) -> list[str]:
    """Each token's text as it appears in the decoded caption, so that `"".join(pieces)` is the caption.

    Decoding tokens one by one loses the spaces a word-level or SentencePiece decoder puts between them; the
    difference of successive prefix decodings keeps them.
    """
    pieces, previous = [], ""
    for end in range(1, len(ids) + 1):
        text = tokenizer.decode(ids[:end], skip_special_tokens=True).lstrip()
        pieces.append(text[len(previous) :] if text.startswith(previous) else tokenizer.decode(ids[end - 1 : end]))
        previous = text
    return pieces


@torch.no_grad()
def caption_motion(
    model,
    processor,
    result: MotionResult,
    question: str = DEFAULT_QUESTION,
    msd: bool = True,
    max_new_tokens: int = 128,
    **generate_kwargs,
) -> CaptionResult:
    """Caption one clip from its keyframes and motion frames or joints (see `extract_motion`).

    Args:
        model ([`MacmForConditionalGeneration`]): the captioner.
        processor ([`MacmProcessor`]): its processor.
        result (`MotionResult`): the clip's keyframes and motion frames.
        question (`str`, *optional*): the instruction or question.
        msd (`bool`, *optional*, defaults to `True`): Motion Synergetic Decoding (else the visual pathway alone).
        max_new_tokens (`int`, *optional*, defaults to 128): generation budget.
    """
    prompt = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": question}]}],
        add_generation_prompt=True,
    )
    inputs = processor(text=prompt, videos=[result.keyframes], **motion_processor_inputs(model.config, result))
    inputs = inputs.to(model.device)
    for name in ("pixel_values_videos", "pixel_values_motion", "motion_joints"):
        if name in inputs:
            inputs[name] = inputs[name].to(model.dtype)
    start = time.perf_counter()
    output = model.generate(
        **inputs,
        msd=msd,
        max_new_tokens=max_new_tokens,
        return_dict_in_generate=True,
        output_msd=msd,
        **generate_kwargs,
    )
    seconds = time.perf_counter() - start
    generated = output.sequences[0, inputs["input_ids"].shape[1] :]
    tokenizer = processor.tokenizer
    special = set(tokenizer.all_special_ids)
    keep = [i for i, token in enumerate(generated.tolist()) if token not in special]
    caption = CaptionResult(
        caption=tokenizer.decode(generated, skip_special_tokens=True).strip(),
        msd=msd,
        tokens=_token_pieces(tokenizer, [int(generated[i]) for i in keep]),
        seconds=round(seconds, 3),
    )
    if msd:
        caption.changed = [bool(output.msd.changed[0, i]) for i in keep]
        caption.step_synergy = [round(float(output.msd.step_synergy[0, i]), 5) for i in keep]
    return caption
