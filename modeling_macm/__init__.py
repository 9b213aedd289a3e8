"""The M-ACM model files shipped to the Hub with every checkpoint (loaded there with `trust_remote_code=True`).

Only the standard library, torch, transformers, numpy, PIL and relative imports of siblings are allowed here.
"""

from .configuration_macm import MacmConfig
from .modeling_macm import MacmForConditionalGeneration, MacmModel, MacmPreTrainedModel
from .msd import MotionSynergeticLogitsProcessor, msd_scores
from .processing_macm import MacmProcessor

MacmConfig.register_for_auto_class()
MacmForConditionalGeneration.register_for_auto_class("AutoModel")
MacmProcessor.register_for_auto_class()

__all__ = [
    "MacmConfig",
    "MacmForConditionalGeneration",
    "MacmModel",
    "MacmPreTrainedModel",
    "MacmProcessor",
    "MotionSynergeticLogitsProcessor",
    "msd_scores",
]
