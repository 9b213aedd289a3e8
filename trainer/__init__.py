"""Fine-tuning M-ACM with TRL's SFTTrainer under accelerate (installed as ``macm.trainer``)."""

from .collator import MacmCollator
from .data import build_sft_samples, load_hmi_split

__all__ = ["MacmCollator", "build_sft_samples", "load_hmi_split"]
