"""HMI-format rows -> SFT samples (captions and QA pairs). The rows and each clip's frames are read by
`macm.processing.hmi.clips` (re-exported here)."""

from __future__ import annotations

import logging
import random

from macm.processing.caption import DEFAULT_QUESTION
from macm.processing.hmi.clips import ClipInputs, dataset_root, load_clip_frames, load_clip_inputs, load_hmi_split

__all__ = [
    "CAPTION_QUESTION",
    "ClipInputs",
    "build_sft_samples",
    "dataset_root",
    "load_clip_frames",
    "load_clip_inputs",
    "load_hmi_split",
]

logger = logging.getLogger(__name__)

CAPTION_QUESTION = DEFAULT_QUESTION
MEDIA_FIELDS = (
    "id",
    "video",
    "file_name",
    "keyframe_files",
    "motion_files",
    "keyframe_indices",
    "joints_file",
    "intrinsics",
)


def build_sft_samples(
    rows, qa_ratio: float = 0.2, seed: int = 0, caption_question: str = CAPTION_QUESTION
) -> list[dict]:
    """Expand dataset rows into SFT samples: every caption, plus a `qa_ratio` fraction of the QA pairs.

    The paper trained on all 115K captions and 20% of the QA pairs (206K). The QA subset is drawn with `seed`,
    so every process of a distributed run builds the same list.

    Returns:
        `list[dict]`: samples with `question`, `answer`, `kind` (`"caption"`/`"qa"`), `row` (index into `rows`) and
        the row's media fields (`MEDIA_FIELDS`), so a sample can be collated on its own.
    """
    if not 0.0 <= qa_ratio <= 1.0:
        raise ValueError(f"`qa_ratio` must be in [0, 1], got {qa_ratio}")
    samples, qa_pairs = [], []
    for index, row in enumerate(rows):
        media = {key: row.get(key) for key in MEDIA_FIELDS}
        if row.get("caption"):
            samples.append(
                {**media, "question": caption_question, "answer": row["caption"], "kind": "caption", "row": index}
            )
        for qa in row.get("qa") or []:
            if qa.get("question") and qa.get("answer") is not None:
                sample = {**media, "question": qa["question"], "answer": str(qa["answer"]), "kind": "qa", "row": index}
                qa_pairs.append(sample)
    chosen = random.Random(seed).sample(qa_pairs, round(qa_ratio * len(qa_pairs)))
    samples.extend(sorted(chosen, key=lambda s: (s["row"], s["question"])))
    logger.info("SFT samples: %d captions + %d of %d QA pairs", len(samples) - len(chosen), len(chosen), len(qa_pairs))
    return samples
