"""Predictions for HMI-Bench from an M-ACM checkpoint (``macm eval --model``), and writing predictions files.

Each benchmark video goes through the motion pathway once (`macm.processing.pipeline.extract_motion`: pose-driven
keyframes and motion frames, cached per clip), then through `macm.processing.caption.caption_motion` for the caption
and for every question the benchmark asks about the video (true/false questions get an instruction to answer yes or
no). A video that cannot be decoded is logged and left out, so the report lists it as missing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from tqdm.auto import tqdm

from .bench import HmiBench, Prediction

__all__ = ["TF_INSTRUCTION", "generate_predictions", "write_predictions"]

logger = logging.getLogger(__name__)

TF_INSTRUCTION = "Answer with yes or no."


def generate_predictions(
    bench: HmiBench,
    model_path: str,
    msd: bool = True,
    question: str | None = None,
    answer_questions: bool = True,
    pose_backend: str = "blazepose",
    num_keyframes: int | None = None,
    smpl_dir: str | Path | None = None,
    max_new_tokens: int = 256,
    motion_cache: bool = True,
    progress: bool = True,
) -> dict[str, Prediction]:
    """Captions (and answers to the benchmark's questions) for every benchmark video from a checkpoint.

    Args:
        bench ([`HmiBench`]): the benchmark; videos are ``bench.video_path(item)``.
        model_path (`str`): a local M-ACM checkpoint folder or Hub id.
        msd (`bool`, *optional*, defaults to `True`): decode with Motion Synergetic Decoding.
        question (`str`, *optional*): the captioning instruction; defaults to the captioner's.
        answer_questions (`bool`, *optional*, defaults to `True`): also answer the video's QA items.
        pose_backend (`str`, *optional*, defaults to `"blazepose"`): pose backend of the motion pathway.
        num_keyframes (`int`, *optional*): keyframes per clip; defaults to the checkpoint's `num_keyframes`.
        smpl_dir (`str` or `Path`, *optional*): SMPL model folder (else limb capsules are drawn).
        max_new_tokens (`int`, *optional*, defaults to 256): caption length limit (answers get a quarter).
        motion_cache (`bool`, *optional*, defaults to `True`): read and write the motion pathway's per-clip cache.
        progress (`bool`, *optional*, defaults to `True`): progress bar over videos.

    Returns:
        `dict[str, Prediction]`: ``{video as written in the benchmark: Prediction}``.
    """
    from macm.processing.caption import DEFAULT_QUESTION, caption_motion, checkpoint_motion_settings, load_captioner
    from macm.processing.pipeline import BodyRecoveryError, extract_motion
    from macm.processing.video import VideoDecodeError

    model, processor = load_captioner(model_path)
    num_keyframes, frame_settings = checkpoint_motion_settings(model.config, num_keyframes)
    instruction = question if question is not None else DEFAULT_QUESTION
    predictions: dict[str, Prediction] = {}
    for item in tqdm(bench.items, desc="Captioning HMI-Bench", disable=not progress):
        path = bench.video_path(item)
        try:
            motion = extract_motion(
                path,
                backend=pose_backend,
                num_keyframes=num_keyframes,
                smpl_dir=smpl_dir,
                cache=motion_cache,
                progress=False,
                motion_frame_settings=frame_settings,
            )
        except (VideoDecodeError, BodyRecoveryError, OSError) as error:
            logger.warning("skipping %s: %s", path, error)
            continue
        caption = caption_motion(
            model, processor, motion, question=instruction, msd=msd, max_new_tokens=max_new_tokens
        )
        answers = None
        if answer_questions and item.qa:
            answers = []
            for qa in item.qa:
                prompt = f"{qa.question} {TF_INSTRUCTION}" if qa.kind == "tf" else qa.question
                answer = caption_motion(
                    model, processor, motion, question=prompt, msd=msd, max_new_tokens=max(8, max_new_tokens // 4)
                )
                answers.append(answer.caption)
        predictions[item.video] = Prediction(video=item.video, caption=caption.caption, answers=answers)
    logger.info("generated predictions for %d of %d videos", len(predictions), len(bench))
    return predictions


def write_predictions(predictions: Mapping[str, Prediction], path: str | Path) -> Path:
    """Writes predictions in the JSON-lines format `load_predictions` reads (so a model run can be re-scored)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for prediction in predictions.values():
            record = {"video": prediction.video, "caption": prediction.caption}
            if prediction.answers is not None:
                record["answers"] = prediction.answers
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
