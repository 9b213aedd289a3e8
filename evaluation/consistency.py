"""Motion-grounded consistency: do the body parts and sides a caption names match the ones that moved?

The caption's mentions come from `body_parts.find_body_parts`; the clip's motion from
`macm.processing.kinematics` (a `MotionSummary`: per limb whether it moved, and which side of each part moved).
Only *scored* mentions count: role ``mover`` (not places such as "above the head", not negated parts), of a part
whose limbs were observed in the pose track (for a sided mention, that side's limb).

- ``limb_consistency``: the share of the distinct parts (arm, leg, head, torso) the caption names whose limbs moved
  (a part moved when any of its limbs did: side does not matter here). `None` when the caption names no part.
- ``side_consistency``: over the distinct sided mentions (``(step, arm|leg, left|right)``) of parts that moved, the
  share whose side moved the part *when the caption says*: the caption is cut into steps ("then", "finally", sentence
  ends, see `BodyPartMention.step`), the steps are aligned in order to the motion's phases (`MotionSummary.phases`)
  by `_align`, which ignores sides, and a mention matches when its side is among the sides that moved the part in
  its step's phase (`MotionSummary.sides_in`: the side that moved, both when left and right moved comparably). A
  caption of one step is checked against the whole clip (`MotionSummary.moved_sides`); a sided mention whose step
  finds no phase moving its part is left out (``not_aligned``). `None` when there is nothing to check. "both" and
  unsided mentions have no side to check; sided mentions of parts that did not move already count against
  ``limb_consistency`` and are not scored again.
- ``limb_coverage``: the share of the parts that moved which the caption names (`None` when nothing moved).

All three are in [0, 1]. `ConsistencyMetric` scores a whole benchmark for `macm eval`; `clip_motion` finds a clip's
pose data.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES
from macm.processing.kinematics import KinematicsConfig, MotionSummary

from .bench import HmiBench, Prediction
from .body_parts import CaptionParts, find_body_parts
from .pose_data import PoseDataUnavailable, clip_motion

if TYPE_CHECKING:
    from macm.processing.cache import MotionCache

__all__ = ["ConsistencyMetric", "ConsistencyScores", "mean_or_none", "score_caption"]

logger = logging.getLogger(__name__)

# how much a step's relative position may differ from its phase's before another equally good alignment wins
_POSITION_WEIGHT = 0.01


@dataclass(frozen=True)
class ConsistencyScores:
    """The consistency of one caption with one clip's motion (definitions in the module docstring).

    Args:
        limb_consistency (`float`, *optional*): share of the named parts that moved.
        side_consistency (`float`, *optional*): share of the sided mentions whose side moved.
        limb_coverage (`float`, *optional*): share of the moved parts that are named.
        named_parts (`tuple[str, ...]`): the distinct scored parts the caption names.
        moved_parts (`tuple[str, ...]`): the parts that moved.
        sides (`tuple[dict, ...]`): per checked sided mention ``{"part", "side", "step", "phase", "moved_sides",
            "match"}`` (``phase`` is `None` for a one-step caption, checked against the whole clip).
        unscored (`dict[str, int]`): mentions left out, by reason (``place``, ``negated``, ``not_observed``; for
            sided mentions also ``part_did_not_move`` and ``not_aligned``).
    """

    limb_consistency: float | None
    side_consistency: float | None
    limb_coverage: float | None
    named_parts: tuple[str, ...]
    moved_parts: tuple[str, ...]
    sides: tuple[dict, ...] = ()
    unscored: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "limb_consistency": self.limb_consistency,
            "side_consistency": self.side_consistency,
            "limb_coverage": self.limb_coverage,
            "named_parts": list(self.named_parts),
            "moved_parts": list(self.moved_parts),
            "sides": list(self.sides),
            "unscored": dict(self.unscored),
        }


def _align(step_parts: Sequence[set[str]], phase_parts: Sequence[set[str]]) -> dict[int, int]:
    """Monotone one-to-one alignment of caption steps to motion phases maximising the parts they share.

    Sides play no part, so the alignment cannot favour a caption's sides. Among equally good alignments the one
    whose relative positions agree best (step k of K near phase p of P) wins.
    """
    steps, phases = len(step_parts), len(phase_parts)
    score = np.zeros((steps + 1, phases + 1))
    for k in range(1, steps + 1):
        for p in range(1, phases + 1):
            score[k, p] = max(score[k - 1, p], score[k, p - 1])
            shared = len(step_parts[k - 1] & phase_parts[p - 1])
            if shared:
                offset = abs((k - 0.5) / steps - (p - 0.5) / phases)
                score[k, p] = max(score[k, p], score[k - 1, p - 1] + shared - _POSITION_WEIGHT * offset)
    pairs: dict[int, int] = {}
    k, p = steps, phases
    while k > 0 and p > 0:
        if np.isclose(score[k, p], score[k - 1, p]):
            k -= 1
        elif np.isclose(score[k, p], score[k, p - 1]):
            p -= 1
        else:
            pairs[k - 1] = p - 1
            k, p = k - 1, p - 1
    return pairs


def score_caption(caption: str | CaptionParts, motion: MotionSummary) -> ConsistencyScores:
    """Scores a caption against a clip's motion summary.

    Args:
        caption (`str` or [`CaptionParts`]): the caption, or its parsed mentions.
        motion ([`MotionSummary`]): the clip's motion (`macm.processing.kinematics.summarize_motion`).

    Returns:
        [`ConsistencyScores`].

    Example (the right arm swept up, nothing else moved):

    ```python
    >>> score_caption("He raises his right arm.", motion).side_consistency
    1.0
    >>> score_caption("He raises his left arm.", motion).side_consistency
    0.0
    >>> score_caption("He kicks with his left leg.", motion).limb_consistency
    0.0
    ```
    """
    parts = caption if isinstance(caption, CaptionParts) else find_body_parts(caption)
    unscored: Counter = Counter()
    scored = []
    for mention in parts.mentions:
        if mention.role != "mover":
            unscored[mention.role] += 1
            continue
        observed = (
            motion.limb(f"{mention.side}_{mention.part}").observed
            if mention.sided
            else motion.part_observed(mention.part)
        )
        if not observed:
            unscored["not_observed"] += 1
            continue
        scored.append(mention)

    named = tuple(dict.fromkeys(mention.part for mention in scored))
    moved = motion.moved_parts
    limb = sum(part in moved for part in named) / len(named) if named else None
    coverage = sum(part in named for part in moved) / len(moved) if moved else None

    steps = sorted({mention.step for mention in scored})
    phases = motion.phases
    aligned: dict[int, int] | None = None
    if len(steps) > 1 and phases:
        step_parts = [{m.part for m in scored if m.step == step} for step in steps]
        aligned = _align(step_parts, [{event.part for event in phase} for phase in phases])
    sides, seen = [], set()
    for mention in scored:
        key = (mention.step, mention.part, mention.side)
        if not mention.sided or key in seen:
            continue
        seen.add(key)
        if mention.part not in moved:
            unscored["part_did_not_move"] += 1
            continue
        if aligned is None:  # one step: the whole clip is its window
            moved_sides, phase = motion.moved_sides(mention.part), None
        else:
            phase = aligned.get(steps.index(mention.step))
            moved_sides = motion.sides_in(phases[phase], mention.part) if phase is not None else ()
            if not moved_sides:
                unscored["not_aligned"] += 1
                continue
        sides.append(
            {"part": mention.part, "side": mention.side, "step": mention.step, "phase": phase,
             "moved_sides": list(moved_sides), "match": mention.side in moved_sides}
        )  # fmt: skip
    side_score = sum(s["match"] for s in sides) / len(sides) if sides else None
    return ConsistencyScores(limb, side_score, coverage, named, moved, tuple(sides), dict(unscored))


def mean_or_none(values) -> float | None:
    """The mean of the values that are not `None` (`None` when there are none)."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


SCORE_NAMES = ("limb_consistency", "side_consistency", "limb_coverage")


class ConsistencyMetric:
    """`macm eval`'s motion-consistency metric: an `extra_metrics` entry of `runner.evaluate_predictions`.

    For every matched video it finds the clip's pose data (`pose_data.clip_motion`: the bench row's
    ``joints_file``, else the motion pathway's cache), extracts the motion and scores the prediction, and also the
    benchmark's reference captions (their mean tells how far the scores can go on this benchmark). Clips without
    usable pose data are skipped and counted by reason.

    Args:
        cache (`MotionCache`, *optional*): the motion pathway's cache to read pose tracks from (`None`: do not).
        pose_backend (`str`, *optional*, defaults to `"blazepose"`) and num_keyframes (`int`, *optional*, defaults
            to 16): the `extract_motion` settings whose cache entries to read.
        required (`bool`, *optional*, defaults to `False`): without any pose data, still report (every clip
            skipped) rather than mark the metric as not run.
        config ([`KinematicsConfig`], *optional*): motion-extraction thresholds.
        progress (`bool`, *optional*, defaults to `True`): show a progress bar.
    """

    def __init__(
        self,
        cache: MotionCache | None = None,
        pose_backend: str = "blazepose",
        num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
        required: bool = False,
        config: KinematicsConfig | None = None,
        progress: bool = True,
    ):
        self.cache = cache
        self.pose_backend = pose_backend
        self.num_keyframes = num_keyframes
        self.required = required
        self.config = config or KinematicsConfig()
        self.progress = progress

    def __call__(self, bench: HmiBench, matched: Mapping[str, Prediction]) -> dict:
        rows: dict[str, dict] = {}
        skipped: Counter = Counter()
        sources: Counter = Counter()
        references: dict[str, list] = {name: [] for name in SCORE_NAMES}
        videos = [item.video for item in bench.items if item.video in matched]
        for video in tqdm(videos, desc="Motion consistency", disable=not self.progress):
            try:
                motion, source = clip_motion(
                    bench, bench[video], self.cache, self.pose_backend, self.num_keyframes, self.config
                )
            except PoseDataUnavailable as error:
                skipped[error.reason] += 1
                rows[video] = {**dict.fromkeys(SCORE_NAMES), "skipped": f"{error.reason}: {error.detail}"}
                continue
            sources[source] += 1
            scores = score_caption(matched[video].caption, motion)
            rows[video] = {
                **scores.to_dict(),
                "pose_source": source,
                "moved_limbs": list(motion.moved_limbs),
                "order": list(motion.order),
            }
            for caption in bench[video].captions:
                reference = score_caption(caption, motion)
                for name in SCORE_NAMES:
                    references[name].append(getattr(reference, name))

        scored = [row for row in rows.values() if "skipped" not in row]
        if not scored and not self.required and set(skipped) <= {"no_pose_data"}:
            return {
                "summary": {
                    "enabled": False,
                    "reason": "no pose data: no benchmark row has a joints_file and the motion cache has no entry "
                    "for any video (pass --consistency to report the skipped clips)",
                },
                "per_sample": {},
            }
        summary = {
            "enabled": True,
            "n_clips": len(videos),
            "n_scored": len(scored),
            "n_skipped": sum(skipped.values()),
        }
        summary["skipped"] = dict(sorted(skipped.items()))
        summary["pose_sources"] = dict(sorted(sources.items()))
        for name in SCORE_NAMES:
            values = [row[name] for row in scored if row[name] is not None]
            summary[name] = mean_or_none(values)
            summary[f"n_{name}"] = len(values)
        summary["references"] = {name: mean_or_none(values) for name, values in references.items()}
        summary["references"].update(
            {f"n_{name}": sum(v is not None for v in values) for name, values in references.items()}
        )
        summary["config"] = {
            "min_amplitude": dict(self.config.min_amplitude),
            "side_ratio": self.config.side_ratio,
            "active_fraction": self.config.active_fraction,
            "min_score": self.config.min_score,
        }
        if skipped:
            logger.info("motion consistency: %d clips skipped (%s)", sum(skipped.values()), dict(skipped))
        return {"summary": summary, "per_sample": rows}
