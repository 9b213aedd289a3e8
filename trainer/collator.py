"""The SFT collator: chat prompt + keyframes + motion frames (or joints) in, masked labels out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .augment import augment_keypoints
from .data import load_clip_inputs
from .estimator_noise import EstimatorNoise

__all__ = ["MacmCollator"]


@dataclass
class MacmCollator:
    r"""
    Turns SFT samples (`question`, `answer` and the clip's media fields) into a training batch.

    Each sequence is the inference prompt (chat template with the generation prompt, `<video>` expanded to the
    clip's token count) followed by the answer and the end-of-turn token. Labels are the input ids with `-100` on
    the prompt (the model is not trained to write the question or the video), on the `<video>`/`<motion>`
    placeholders (their embeddings are replaced by features; no target exists for them) and on padding. The
    prompt is tokenized exactly as at inference, so training and `generate` see the same prefix.

    Args:
        processor ([`MacmProcessor`]): the model's processor.
        root (`Path`): folder the samples' relative media paths start from.
        num_frames (`int`, *optional*, defaults to 16): frames per clip; shorter clips repeat their last frame,
            longer ones are sampled (pose-driven where the row has joints, see `load_clip_inputs`), so every clip in a
            batch has the same token count.
        max_length (`int`, *optional*): longest sequence; longer answers are cut (never the prompt).
        motion_encoder (`str`, *optional*, defaults to `"vision_tower"`): the model's `config.motion_encoder`;
            `"joints"` sends the clips' keypoints (`motion_joints`) instead of motion frames.
        joint_noise (`float`, *optional*, defaults to 0.0): with `"joints"`, make ground-truth keypoints look
            estimated (see `jitter_keypoints`); the noise in body heights.
        estimator_noise ([`EstimatorNoise`], *optional*): a pose estimator's recorded errors; with `"joints"`, a share
            `estimator_share` of the clips get them instead of the Gaussian `joint_noise` (see `augment_keypoints`).
        estimator_share (`float`, *optional*, defaults to 0.5): that share.
        estimator_match (`str`, *optional*, defaults to `"clip"`): how the recorded errors are picked (`"clip"` or
            `"pose"`, see [`EstimatorNoise.apply`]).
    """

    processor: object
    root: Path
    num_frames: int = 16
    max_length: int | None = None
    motion_encoder: str = "vision_tower"
    joint_noise: float = 0.0
    estimator_noise: EstimatorNoise | None = None
    estimator_share: float = 0.5
    estimator_match: str = "clip"

    def _fit_frames(self, frames):
        if len(frames) >= self.num_frames:
            return frames[: self.num_frames]
        return [*frames, *[frames[-1]] * (self.num_frames - len(frames))]

    def _motion_joints(self, keypoints: np.ndarray | None, sample: dict) -> np.ndarray:
        if keypoints is None:
            raise ValueError(f"sample {sample.get('id')}: the joints motion encoder needs keypoints; the row has none")
        if self.joint_noise > 0 or self.estimator_noise is not None:
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, ()).item()))  # follows the trainer's seed
            keypoints = augment_keypoints(
                keypoints, rng, self.joint_noise, self.estimator_noise, self.estimator_share, self.estimator_match
            )
        return np.stack(self._fit_frames(list(keypoints)))

    def _end_token_id(self) -> int:
        tokenizer = self.processor.tokenizer
        end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        return end if end is not None and end != tokenizer.unk_token_id else tokenizer.eos_token_id

    def __call__(self, samples: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.processor.tokenizer
        joints = self.motion_encoder == "joints"
        prompts, videos, motions = [], [], []
        for sample in samples:
            prompts.append(
                self.processor.apply_chat_template(
                    [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": sample["question"]}]}],
                    add_generation_prompt=True,
                )
            )
            clip = load_clip_inputs(sample, Path(self.root), self.num_frames, motion_frames=not joints)
            videos.append(self._fit_frames(clip.keyframes))
            motions.append(
                self._motion_joints(clip.keypoints, sample) if joints else self._fit_frames(clip.motion_frames)
            )
        motion_inputs = {"motion_joints": motions} if joints else {"motion_frames": motions}
        encoded = self.processor(text=prompts, videos=videos, padding=False, return_tensors=None, **motion_inputs)

        end_id = self._end_token_id()
        placeholders = torch.tensor([self.processor.video_token_id, self.processor.motion_token_id])
        rows, labels = [], []
        for prompt_ids, sample in zip(encoded["input_ids"], samples, strict=True):
            answer_ids = tokenizer(sample["answer"], add_special_tokens=False)["input_ids"] + [end_id]
            if self.max_length is not None:
                room = self.max_length - len(prompt_ids)
                if room < 1:
                    raise ValueError(
                        f"max_length={self.max_length} is shorter than the prompt ({len(prompt_ids)} tokens, mostly video "
                        "placeholders): raise max_length or use fewer frames"
                    )
                answer_ids = answer_ids[:room]
            ids = torch.tensor(list(prompt_ids) + answer_ids)
            target = ids.clone()
            target[: len(prompt_ids)] = -100
            target[torch.isin(ids, placeholders)] = -100
            rows.append(ids)
            labels.append(target)

        length = max(len(ids) for ids in rows)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end_id
        batch_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
        batch_labels = torch.full((len(rows), length), -100, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, (ids, target) in enumerate(zip(rows, labels, strict=True)):  # right padding for training
            batch_ids[i, : len(ids)] = ids
            batch_labels[i, : len(ids)] = target
            attention_mask[i, : len(ids)] = 1
        return {
            "input_ids": batch_ids,
            "attention_mask": attention_mask,
            "labels": batch_labels,
            "pixel_values_videos": encoded["pixel_values_videos"],
            **{name: encoded[name] for name in ("pixel_values_motion", "motion_joints") if name in encoded},
        }
