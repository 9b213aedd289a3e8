"""Motion Synergetic Decoding (MSD): combine the visual and motion pathways' next-token distributions.

The paper names five synergy components and the pruning rule but does not publish their formulas. This file
implements the project's reconstruction, `synergy="reconstructed-v1"` (see `msd_scores`), with every term
switchable so the published formula can replace it, plus the VCD-style `"contrastive"` baseline for ablations.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from transformers import LogitsProcessor

__all__ = [
    "DEFAULT_MSD_ALPHA",
    "DEFAULT_MSD_BETA",
    "DEFAULT_MSD_SYNERGY",
    "DEFAULT_MSD_THETA",
    "MSD_GENERATION_FIELDS",
    "MSD_SYNERGIES",
    "MSD_TERMS",
    "MotionSynergeticLogitsProcessor",
    "MsdStep",
    "UnbatchedMotionSynergeticLogitsProcessor",
    "msd_scores",
    "synergy_terms",
    "validate_msd_arguments",
]

# The paper's MSD values: the one place they are written (the config, the generation config and every caller read them)
DEFAULT_MSD_ALPHA = (0.5, 0.2, 0.4, 0.8, 0.3, 2.0)
DEFAULT_MSD_BETA = 0.2
DEFAULT_MSD_THETA = 2.0
DEFAULT_MSD_SYNERGY = "reconstructed-v1"
MSD_SYNERGIES = ("reconstructed-v1", "contrastive")
MSD_TERMS = ("L1", "L2", "L3", "L4", "L5")
# config fields a checkpoint's generation_config.json carries too
MSD_GENERATION_FIELDS = ("msd_alpha", "msd_beta", "msd_theta", "msd_synergy", "msd_terms")
_EPS = 1e-8


def validate_msd_arguments(alpha, beta, theta, synergy, terms) -> None:
    """Raise `ValueError` naming the first MSD argument that is out of range."""
    if not isinstance(alpha, Sequence) or len(alpha) != 6:
        raise ValueError(f"MSD argument `alpha` must be 6 numbers (a1..a5 and the exponent a6), got {alpha!r}")
    if not all(isinstance(a, (int, float)) and math.isfinite(a) for a in alpha):
        raise ValueError(f"MSD argument `alpha` must hold finite numbers, got {alpha!r}")
    if not isinstance(beta, (int, float)) or not math.isfinite(beta) or beta < 0:
        raise ValueError(f"MSD argument `beta` must be a finite number >= 0, got {beta!r}")
    if not isinstance(theta, (int, float)) or not math.isfinite(theta) or theta <= 0:
        raise ValueError(f"MSD argument `theta` must be a finite number > 0, got {theta!r}")
    if synergy not in MSD_SYNERGIES:
        raise ValueError(f"MSD argument `synergy` must be one of {MSD_SYNERGIES}, got {synergy!r}")
    if terms is not None:
        unknown = [t for t in terms if t not in MSD_TERMS]
        if isinstance(terms, str) or unknown or len(set(terms)) != len(terms):
            raise ValueError(f"MSD argument `terms` must be distinct names from {MSD_TERMS}, got {terms!r}")


def synergy_terms(
    p: torch.Tensor, q: torch.Tensor, alpha: Sequence[float] = DEFAULT_MSD_ALPHA, theta: float = DEFAULT_MSD_THETA
) -> dict[str, torch.Tensor]:
    """The five reconstructed synergy components per token.

    Args:
        p (`torch.Tensor` of shape `(B, V)`): visual pathway probabilities.
        q (`torch.Tensor` of shape `(B, V)`): motion pathway probabilities.

    Returns:
        `dict[str, torch.Tensor]`: `"L1"`..`"L5"`, each `(B, V)`.
    """
    a1, a2, a3, a4, a5, a6 = alpha
    return {
        # amplifies high-confidence predictions (exponential): large only when both pathways are confident
        "L1": a1 * torch.expm1(a6 * torch.minimum(p, q)),
        # maintains balanced contributions (averaging)
        "L2": a2 * (p + q) / 2,
        # soft, scale-free penalty for disagreement (logarithmic)
        "L3": -a3 * torch.log1p((p - q).abs() / (p + q + _EPS)),
        # non-linear coupling (power): the geometric mean at theta = 2
        "L4": a4 * (p * q).pow(1.0 / theta),
        # discourages large discrepancies (quadratic)
        "L5": -a5 * (p - q).square(),
    }


def _validate_logits(visual_logits: torch.Tensor, motion_logits: torch.Tensor) -> None:
    if visual_logits.dim() != 2:
        raise ValueError(f"MSD argument `visual_logits` must have shape (B, V), got {tuple(visual_logits.shape)}")
    if motion_logits.shape != visual_logits.shape:
        raise ValueError(
            f"MSD argument `motion_logits` must match `visual_logits`: got {tuple(motion_logits.shape)} "
            f"and {tuple(visual_logits.shape)}"
        )


def msd_scores(
    visual_logits: torch.Tensor,
    motion_logits: torch.Tensor,
    alpha: Sequence[float] = DEFAULT_MSD_ALPHA,
    beta: float = DEFAULT_MSD_BETA,
    theta: float = DEFAULT_MSD_THETA,
    synergy: str = DEFAULT_MSD_SYNERGY,
    terms: Sequence[str] | None = None,
    return_step_synergy: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""
    Combine the two pathways' next-token logits into MSD scores.

    With `p = softmax(visual_logits)` and `q = softmax(motion_logits)`, `S(y) = sum of the selected terms L1..L5`
    (see `synergy_terms`), the step synergy `S_T = S(argmax p)`; tokens with
    `p_y < clamp(beta * (1 + S_T), 0, 1) * max p` are pruned (agreement on the top token prunes harder,
    disagreement lets the motion pathway promote an alternative; the visual argmax always survives), and the kept
    tokens score `log((p_y + q_y) / 2) + S(y)`.

    `synergy="contrastive"` is the VCD-style baseline: `(1 + a1) * motion_logits - a1 * visual_logits` on the
    tokens with `p_y >= beta * max p`.

    Args:
        visual_logits (`torch.Tensor` of shape `(B, V)`): next-token logits of the visual pathway.
        motion_logits (`torch.Tensor` of shape `(B, V)`): next-token logits of the motion pathway.
        alpha (`Sequence[float]`, *optional*, defaults to `(0.5, 0.2, 0.4, 0.8, 0.3, 2.0)`): a1..a5, a6.
        beta (`float`, *optional*, defaults to 0.2): pruning threshold base, >= 0.
        theta (`float`, *optional*, defaults to 2.0): power-coupling exponent, > 0.
        synergy (`str`, *optional*, defaults to `"reconstructed-v1"`): `"reconstructed-v1"` or `"contrastive"`.
        terms (`Sequence[str]`, *optional*): subset of `("L1", ..., "L5")` for ablations; all when `None`.
        return_step_synergy (`bool`, *optional*, defaults to `False`): also return `S_T` of shape `(B,)`.

    Returns:
        `torch.Tensor` of shape `(B, V)`, float32: the combined scores, `-inf` on pruned tokens (and `S_T`).
    """
    validate_msd_arguments(alpha, beta, theta, synergy, terms)
    _validate_logits(visual_logits, motion_logits)
    z_v = visual_logits.float()
    z_m = motion_logits.float()
    p = z_v.softmax(dim=-1)
    p_max, visual_top = p.max(dim=-1, keepdim=True)  # (B, 1)

    if synergy == "contrastive":
        step_synergy = torch.zeros_like(p_max)
        scores = (1 + alpha[0]) * z_m - alpha[0] * z_v
        cutoff = beta * p_max
    else:
        q = z_m.softmax(dim=-1)
        components = synergy_terms(p, q, alpha, theta)
        selected = MSD_TERMS if terms is None else tuple(terms)
        synergy_per_token = sum((components[name] for name in selected), torch.zeros_like(p))  # (B, V)
        step_synergy = synergy_per_token.gather(-1, visual_top)  # (B, 1)
        scores = torch.log((p + q) / 2) + synergy_per_token
        cutoff = (beta * (1 + step_synergy)).clamp(0.0, 1.0) * p_max

    keep = p >= cutoff
    keep.scatter_(-1, visual_top, True)  # guard against rounding: the visual argmax is always plausible
    scores = scores.masked_fill(~keep, float("-inf"))
    if return_step_synergy:
        return scores, step_synergy.squeeze(-1)
    return scores


@dataclass
class MsdStep:
    """What MSD did at one decoding step, per sequence (rows of the generation batch)."""

    step_synergy: torch.Tensor  # (N,) S_T
    visual_top: torch.Tensor  # (N,) argmax of the visual pathway
    motion_top: torch.Tensor  # (N,) argmax of the motion pathway
    msd_top: torch.Tensor  # (N,) argmax of the MSD scores
    changed: torch.Tensor = field(init=False)  # (N,) bool, MSD's choice differs from the visual pathway's

    def __post_init__(self):
        self.changed = self.msd_top != self.visual_top


class MotionSynergeticLogitsProcessor(LogitsProcessor):
    r"""
    [`LogitsProcessor`] for Motion Synergetic Decoding: the visual pathway (keyframes) and the motion pathway
    (the same keyframes with the body drawn over them) each predict the next token; MSD keeps the tokens the
    visual pathway finds plausible and re-ranks them by how well the two pathways agree, so the motion pathway can
    settle body-part and left/right choices the visual pathway is unsure about.

    The generation batch holds `N` sequences, but the model decodes `2N` rows: rows `[0, N)` are the visual
    pathway and rows `[N, 2N)` the motion pathway of the same sequences (one forward, one KV cache). This processor
    reduces the `2N` rows of logits to `N` rows of scores, so it must run first; every sampling or beam-search
    choice is then made once per sequence and both pathways continue with the same token, as in
    [`ClassifierFreeGuidanceLogitsProcessor`].

    Args:
        alpha (`Sequence[float]`, *optional*, defaults to `(0.5, 0.2, 0.4, 0.8, 0.3, 2.0)`): a1..a5 and a6.
        beta (`float`, *optional*, defaults to 0.2): pruning threshold base.
        theta (`float`, *optional*, defaults to 2.0): power-coupling exponent.
        synergy (`str`, *optional*, defaults to `"reconstructed-v1"`): or `"contrastive"`.
        terms (`Sequence[str]`, *optional*): subset of L1..L5 (ablations).
        record (`bool`, *optional*, defaults to `False`): keep an `MsdStep` per call in `self.steps`.

    Examples:

    ```python
    >>> import torch
    >>> from modeling_macm.msd import MotionSynergeticLogitsProcessor

    >>> processor = MotionSynergeticLogitsProcessor()
    >>> # one sequence, vocabulary ["foot", "hand", "head"]: visual row, then motion row
    >>> logits = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.7, 0.2]]))
    >>> processor(torch.zeros(1, 4, dtype=torch.long), logits).argmax(-1)  # the motion pathway settles it: "hand"
    tensor([1])
    ```
    """

    def __init__(
        self,
        alpha: Sequence[float] = DEFAULT_MSD_ALPHA,
        beta: float = DEFAULT_MSD_BETA,
        theta: float = DEFAULT_MSD_THETA,
        synergy: str = DEFAULT_MSD_SYNERGY,
        terms: Sequence[str] | None = None,
        record: bool = False,
    ):
        validate_msd_arguments(alpha, beta, theta, synergy, terms)
        self.alpha = tuple(float(a) for a in alpha)
        self.beta = float(beta)
        self.theta = float(theta)
        self.synergy = synergy
        self.terms = None if terms is None else tuple(terms)
        self.record = record
        self.steps: list[MsdStep] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        num_sequences = input_ids.shape[0]
        if scores.shape[0] != 2 * num_sequences:
            raise ValueError(
                f"MSD expects 2 rows of logits per sequence (visual, then motion): got {scores.shape[0]} rows "
                f"for {num_sequences} sequences. Generate with `msd=True` and motion frames."
            )
        visual_logits, motion_logits = scores.split(num_sequences, dim=0)
        combined, step_synergy = msd_scores(
            visual_logits,
            motion_logits,
            alpha=self.alpha,
            beta=self.beta,
            theta=self.theta,
            synergy=self.synergy,
            terms=self.terms,
            return_step_synergy=True,
        )
        if self.record:
            self.steps.append(
                MsdStep(
                    step_synergy=step_synergy,
                    visual_top=visual_logits.argmax(-1),
                    motion_top=motion_logits.argmax(-1),
                    msd_top=combined.argmax(-1),
                )
            )
        return combined


class UnbatchedMotionSynergeticLogitsProcessor(LogitsProcessor):
    r"""
    Reference MSD that runs the motion pathway on its own: at every step, one full forward of the motion prompt
    plus the tokens generated so far (no KV cache, no batching with the visual pathway). It is slow by design and
    exists to check the batched implementation: pass it to a plain (visual-pathway) `generate`. Because it reads the
    current sequences from `input_ids`, it follows beam reordering and sampling like any processor.

    Args:
        model ([`MacmForConditionalGeneration`]): the model whose motion pathway to run.
        input_ids (`torch.LongTensor` of shape `(B, T)`): the visual prompt (`<video>` placeholders).
        pixel_values_motion (`torch.FloatTensor` of shape `(B, F, C, H, W)`): the motion frames.
        attention_mask (`torch.LongTensor` of shape `(B, T)`, *optional*): the prompt's mask.
        alpha, beta, theta, synergy, terms: as in [`msd_scores`].
    """

    def __init__(
        self,
        model,
        input_ids: torch.LongTensor,
        pixel_values_motion: torch.FloatTensor,
        attention_mask: torch.LongTensor | None = None,
        alpha: Sequence[float] = DEFAULT_MSD_ALPHA,
        beta: float = DEFAULT_MSD_BETA,
        theta: float = DEFAULT_MSD_THETA,
        synergy: str = DEFAULT_MSD_SYNERGY,
        terms: Sequence[str] | None = None,
    ):
        validate_msd_arguments(alpha, beta, theta, synergy, terms)
        self.model = model
        self.prompt_ids = input_ids
        self.prompt_mask = attention_mask if attention_mask is not None else torch.ones_like(input_ids)
        self.pixel_values_motion = pixel_values_motion
        self.msd_kwargs = {"alpha": alpha, "beta": beta, "theta": theta, "synergy": synergy, "terms": terms}

    @torch.no_grad()
    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        rows, batch_size = input_ids.shape[0], self.prompt_ids.shape[0]
        expand = rows // batch_size  # beams or returned sequences per prompt
        generated = input_ids[:, self.prompt_ids.shape[1] :]
        ids = torch.cat([self.prompt_ids.repeat_interleave(expand, 0), generated], dim=1)
        mask = torch.cat([self.prompt_mask.repeat_interleave(expand, 0), torch.ones_like(generated)], dim=1)
        position_ids = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
        motion_logits = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=position_ids,
            pixel_values_motion=self.pixel_values_motion.repeat_interleave(expand, 0),
            pathways="motion",
            use_cache=False,
        ).logits[:, -1]
        return msd_scores(scores, motion_logits, **self.msd_kwargs)
