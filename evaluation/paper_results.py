"""The paper's HMI-Bench results, to print beside ours.

Copied from the authors' public README of M-ACM ("Towards Fine-Grained Human Motion Video Captioning", ACM MM 2025,
arXiv 2510.24767), tables "Standard Caption Metrics on HMI-Bench" and "Human Motion Understanding Dimensions"
(kept in this project as ``shared/seeds/000_d02830d22c9d8f08.txt``). The paper reports no true/false accuracy and no
BLEU-2/3 or ROUGE-1/2. Note that its "Overall" column is the authors' number, which for some rows differs from the
mean of the five dimensions printed next to it; ours is always that mean.
"""

from __future__ import annotations

__all__ = ["PAPER_CAPTION_METRICS", "PAPER_DIMENSION_SCORES", "PAPER_REFERENCE_MODEL", "PAPER_SOURCE"]

PAPER_SOURCE = (
    "M-ACM authors' README (arXiv 2510.24767), tables 'Standard Caption Metrics on HMI-Bench' and "
    "'Human Motion Understanding Dimensions'"
)
PAPER_REFERENCE_MODEL = "M-ACM Qwen2-7B"

# model -> BLEU-1, BLEU-4, METEOR, ROUGE-L, CIDEr (pycocoevalcap scale: CIDEr is not multiplied by 100).
PAPER_CAPTION_METRICS: dict[str, dict[str, float]] = {
    "MotionLLM": {"BLEU-1": 0.014, "BLEU-4": 0.001, "METEOR": 0.059, "ROUGE-L": 0.132, "CIDEr": 0.191},
    "VideoLLaVA": {"BLEU-1": 0.015, "BLEU-4": 0.002, "METEOR": 0.075, "ROUGE-L": 0.168, "CIDEr": 0.308},
    "LLaVA-OV-Qwen2-7B": {"BLEU-1": 0.326, "BLEU-4": 0.033, "METEOR": 0.223, "ROUGE-L": 0.207, "CIDEr": 0.334},
    "QwenVL2.5-7B": {"BLEU-1": 0.153, "BLEU-4": 0.020, "METEOR": 0.160, "ROUGE-L": 0.229, "CIDEr": 0.553},
    "M-ACM Llama3-8B": {"BLEU-1": 0.493, "BLEU-4": 0.117, "METEOR": 0.336, "ROUGE-L": 0.315, "CIDEr": 0.722},
    "M-ACM Qwen2-7B": {"BLEU-1": 0.495, "BLEU-4": 0.124, "METEOR": 0.338, "ROUGE-L": 0.327, "CIDEr": 0.807},
}

# model -> the five dimensions (0-10) and the paper's Overall.
PAPER_DIMENSION_SCORES: dict[str, dict[str, float]] = {
    "MotionLLM": {
        "details_of_movements": 1.40,
        "interaction_with_environment": 1.67,
        "motivation_and_reason": 0.98,
        "micro_expressions_and_emotions": 0.30,
        "character_attributes": 1.77,
        "overall": 1.40,
    },
    "VideoLLaVA": {
        "details_of_movements": 1.96,
        "interaction_with_environment": 2.58,
        "motivation_and_reason": 0.87,
        "micro_expressions_and_emotions": 0.23,
        "character_attributes": 2.70,
        "overall": 1.67,
    },
    "LLaVA-OV-Qwen2-7B": {
        "details_of_movements": 3.83,
        "interaction_with_environment": 6.22,
        "motivation_and_reason": 2.03,
        "micro_expressions_and_emotions": 1.28,
        "character_attributes": 6.00,
        "overall": 3.83,
    },
    "QwenVL2.5-7B": {
        "details_of_movements": 4.42,
        "interaction_with_environment": 6.44,
        "motivation_and_reason": 3.60,
        "micro_expressions_and_emotions": 1.54,
        "character_attributes": 5.40,
        "overall": 4.42,
    },
    "M-ACM Llama3-8B": {
        "details_of_movements": 4.36,
        "interaction_with_environment": 4.34,
        "motivation_and_reason": 4.01,
        "micro_expressions_and_emotions": 4.81,
        "character_attributes": 4.56,
        "overall": 4.42,
    },
    "M-ACM Qwen2-7B": {
        "details_of_movements": 5.61,
        "interaction_with_environment": 5.91,
        "motivation_and_reason": 5.05,
        "micro_expressions_and_emotions": 5.54,
        "character_attributes": 6.32,
        "overall": 5.69,
    },
}
