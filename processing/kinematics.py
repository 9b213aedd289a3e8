"""Motion events from a pose track: which limbs moved, how much, when, on which side and in what order.

The body is split into six limbs: ``left_arm``, ``right_arm``, ``left_leg``, ``right_leg``, ``head`` and ``torso``.
Each limb is a few keypoints measured from an anchor on the body, in units of the limb's own length:

| limb | keypoints | anchor | length |
|---|---|---|---|
| arm | elbow, wrist | same-side shoulder | shoulder-elbow + elbow-wrist |
| leg | knee, ankle | same-side hip | hip-knee + knee-ankle |
| head | nose, eyes, ears | shoulder centre | shoulder centre to the head keypoints' centroid |
| torso | both shoulders | hip centre | hip centre to shoulder centre |

Measuring from the anchor removes camera and body translation; dividing by the limb's length (median over the clip)
removes the person's size and distance, and puts every limb on the same scale (a rigid limb swinging by an angle
theta moves by about ``2 sin(theta / 2)`` lengths). Arms and head are measured in the trunk's frame, so bending,
leaning or twisting the trunk does not move them (3D: the frame of shoulder line and trunk axis; 2D: the trunk's
angle in the image); legs and torso in the hips' frame (3D: the body's heading about the trunk axis removed, so
turning on the spot is not torso movement; 2D: image axes). Sides are the person's own: they come from the
anatomical keypoint names, never from the image.

Per limb (`LimbActivity`):

- ``amplitude``: after a short temporal median against pose jitter (`KinematicsConfig.smooth_seconds`), the largest
  distance between two positions of one of the limb's keypoints over the clip (the trajectory's diameter), in limb
  lengths, the largest over its keypoints;
- ``moved``: ``amplitude >= config.min_amplitude[part]``, and at least ``noise_factor`` times the pose jitter (the
  lower quartile of the keypoints' second differences over time: noise is in every frame, movement in some);
- ``speed``: mean keypoint speed between consecutive frames, limb lengths per second (per frame without times).

Motion events (`MotionEvent`) are the runs of frames where a moved limb's speed reaches ``active_fraction`` of its
own peak and twice its jitter (held while it stays above half of that); two runs of one limb are one event when the
pause between them is no longer than the shorter run, or when the limb stays away from where the first run started
(a raise, a hold and a lowering; waving with the arm up); runs that displace the limb by less than half its moved
threshold are dropped. These rules are relative, so the extraction needs no frame rate. `MotionSummary` gathers the
limbs and events: the ranking by amplitude, the order of first movement, the phases (limbs that set off together),
the sides that moved per part.

```python
>>> from macm.processing.kinematics import summarize_motion
>>> # joints: (F, 17, 3) COCO-17; the right arm sweeps up and down, then the left leg kicks
>>> summary = summarize_motion(joints, COCO17_NAMES, fps=8.0)
>>> summary.top_limb, summary.order, summary.moved_sides("arm")
('right_arm', ('right_arm', 'left_leg'), ('right',))
```
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .pose.types import PoseTrack

__all__ = [
    "LIMB_NAMES",
    "PARTS",
    "KinematicsConfig",
    "LimbActivity",
    "MotionEvent",
    "MotionSummary",
    "summarize_motion",
    "summarize_track_motion",
]

PARTS: tuple[str, ...] = ("arm", "leg", "head", "torso")
LIMB_NAMES: tuple[str, ...] = ("left_arm", "right_arm", "left_leg", "right_leg", "head", "torso")
SIDED_PARTS: tuple[str, ...] = ("arm", "leg")

_SHOULDERS = ("left_shoulder", "right_shoulder")
_HIPS = ("left_hip", "right_hip")
_HEAD = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


@dataclass(frozen=True)
class _LimbSpec:
    """Keypoint names of one limb: `joints` are measured from the mean of `anchor`; `chain` gives its length as the
    sum of distances between consecutive points, each point the mean of its names' available keypoints."""

    name: str
    part: str
    side: str
    anchor: tuple[str, ...]
    joints: tuple[str, ...]
    chain: tuple[tuple[str, ...], ...]
    frame: str  # "trunk": measured in the trunk's frame (arms, head); "pelvis": in the hips' (legs, torso)


def _limb_specs() -> tuple[_LimbSpec, ...]:
    specs = []
    for side in ("left", "right"):
        shoulder, elbow, wrist = f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist"
        chain = ((shoulder,), (elbow,), (wrist,))
        specs.append(_LimbSpec(f"{side}_arm", "arm", side, (shoulder,), (elbow, wrist), chain, "trunk"))
    for side in ("left", "right"):
        hip, knee, ankle = f"{side}_hip", f"{side}_knee", f"{side}_ankle"
        specs.append(
            _LimbSpec(f"{side}_leg", "leg", side, (hip,), (knee, ankle), ((hip,), (knee,), (ankle,)), "pelvis")
        )
    specs.append(_LimbSpec("head", "head", "center", _SHOULDERS, _HEAD, (_SHOULDERS, _HEAD), "trunk"))
    specs.append(_LimbSpec("torso", "torso", "center", _HIPS, _SHOULDERS, (_HIPS, _SHOULDERS), "pelvis"))
    return tuple(specs)


LIMB_SPECS: tuple[_LimbSpec, ...] = _limb_specs()


def _default_min_amplitude() -> dict[str, float]:
    # In limb lengths. The head's "length" (neck to face) is short and a nod swings the face about a pivot
    # below it, so its threshold is the same angle-wise as the others; see the module docstring.
    return {"arm": 0.25, "leg": 0.25, "head": 0.25, "torso": 0.2}


@dataclass(frozen=True)
class KinematicsConfig:
    """Thresholds of the motion-event extraction.

    Args:
        min_score (`float`, *optional*, defaults to 0.3): keypoints scored below this are treated as missing.
        smooth_seconds (`float`, *optional*, defaults to 0.25): temporal median over the odd number of frames that
            fits in this span, against pose jitter and one-frame glitches; at 8-11 fps that is one frame (no
            smoothing, which would flatten real movements sampled that sparsely), at 30 fps seven. Without frame
            times nothing is smoothed; 0 disables it.
        min_amplitude (`Mapping[str, float]`, *optional*): per part (`arm`, `leg`, `head`, `torso`), the amplitude in
            limb lengths from which a limb counts as moved.
        noise_factor (`float`, *optional*, defaults to 4.5): a limb also needs an amplitude of this many times its
            pose jitter (the lower quartile of its keypoints' frame-to-frame second differences) to count as moved.
        active_fraction (`float`, *optional*, defaults to 0.2): a moved limb is active in the frames where its speed
            is at least this share of its peak speed.
        side_ratio (`float`, *optional*, defaults to 0.5): both sides of a part count as moving when the weaker
            moved side reaches this share of the stronger one's amplitude (see `MotionSummary.moved_sides`).
        min_visible (`float`, *optional*, defaults to 0.5): share of frames in which a limb's keypoints must be seen
            for the limb to count as observed.
        remove_heading (`bool`, *optional*, defaults to `True`): with 3D points, remove the body's rotation about the
            trunk axis (turning on the spot) before measuring limbs.
    """

    min_score: float = 0.3
    smooth_seconds: float = 0.25
    min_amplitude: Mapping[str, float] = field(default_factory=_default_min_amplitude)
    noise_factor: float = 4.5
    active_fraction: float = 0.2
    side_ratio: float = 0.5
    min_visible: float = 0.5
    remove_heading: bool = True

    def __post_init__(self):
        missing = [part for part in PARTS if part not in self.min_amplitude]
        if missing:
            raise ValueError(f"`min_amplitude` needs a value for every part, missing {missing}")
        if any(not value > 0 for value in self.min_amplitude.values()):
            raise ValueError(f"`min_amplitude` values must be positive, got {dict(self.min_amplitude)}")
        if not self.noise_factor >= 0:
            raise ValueError(f"`noise_factor` must be non-negative, got {self.noise_factor}")
        if not 0.0 < self.active_fraction < 1.0:
            raise ValueError(f"`active_fraction` must be in (0, 1), got {self.active_fraction}")
        if not 0.0 < self.side_ratio <= 1.0:
            raise ValueError(f"`side_ratio` must be in (0, 1], got {self.side_ratio}")
        if not 0.0 < self.min_visible <= 1.0:
            raise ValueError(f"`min_visible` must be in (0, 1], got {self.min_visible}")
        if not self.smooth_seconds >= 0:
            raise ValueError(f"`smooth_seconds` must be non-negative, got {self.smooth_seconds}")


@dataclass(frozen=True)
class MotionEvent:
    """One movement of one limb.

    Args:
        limb (`str`): one of `LIMB_NAMES`.
        part (`str`): one of `PARTS`.
        side (`str`): `"left"`, `"right"` (the person's own) or `"center"`.
        start_frame (`int`): first frame of the movement (index into the summarised frames).
        end_frame (`int`): last frame of the movement (inclusive).
        start_time (`float`) and end_time (`float`): the same in the summary's time unit.
        amplitude (`float`): how far the limb moved during the event, in limb lengths.
    """

    limb: str
    part: str
    side: str
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    amplitude: float

    def to_dict(self) -> dict:
        return {
            "limb": self.limb,
            "part": self.part,
            "side": self.side,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "start_time": round(self.start_time, 4),
            "end_time": round(self.end_time, 4),
            "amplitude": round(self.amplitude, 4),
        }


@dataclass(frozen=True)
class LimbActivity:
    """How one limb moved over the clip.

    Args:
        name (`str`): one of `LIMB_NAMES`.
        part (`str`): one of `PARTS`.
        side (`str`): `"left"`, `"right"` or `"center"`.
        observed (`bool`): its keypoints were seen in enough frames to measure it.
        amplitude (`float`): trajectory diameter in limb lengths (NaN when not observed).
        moved (`bool`): `amplitude` reached `threshold`.
        threshold (`float`): the amplitude it needed to count as moved: the part's `min_amplitude`, raised by the
            track's jitter (NaN when not observed).
        speed (`np.ndarray` of shape `(F - 1,)`): limb lengths per time unit between consecutive frames (NaN where a
            keypoint is missing).
    """

    name: str
    part: str
    side: str
    observed: bool
    amplitude: float
    moved: bool
    threshold: float
    speed: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        def number(value: float) -> float | None:
            return round(float(value), 4) if np.isfinite(value) else None

        return {
            "part": self.part,
            "side": self.side,
            "observed": self.observed,
            "amplitude": number(self.amplitude),
            "threshold": number(self.threshold),
            "moved": self.moved,
        }


@dataclass(frozen=True)
class MotionSummary:
    """Which limbs moved, how much, when, on which side and in what order.

    Args:
        limbs (`tuple[LimbActivity, ...]`): one per name of `LIMB_NAMES`, in that order.
        events (`tuple[MotionEvent, ...]`): every event, by start frame (ties: larger amplitude first).
        times (`np.ndarray` of shape `(F,)`): time of each frame, in `time_unit`.
        time_unit (`str`): `"s"` when the frame times are known, else `"frame"`.
        dims (`int`): 2 for image keypoints, 3 for 3D joints.
        side_ratio (`float`): see `KinematicsConfig.side_ratio`.
    """

    limbs: tuple[LimbActivity, ...]
    events: tuple[MotionEvent, ...]
    times: np.ndarray = field(repr=False)
    time_unit: str
    dims: int
    side_ratio: float = 0.5

    @property
    def num_frames(self) -> int:
        return len(self.times)

    def limb(self, name: str) -> LimbActivity:
        """The `LimbActivity` of a limb name."""
        for limb in self.limbs:
            if limb.name == name:
                return limb
        raise KeyError(f"no limb {name!r}; limbs are {list(LIMB_NAMES)}")

    def limbs_of(self, part: str) -> tuple[LimbActivity, ...]:
        """The limbs of a part (two for arm and leg, one for head and torso)."""
        if part not in PARTS:
            raise ValueError(f"`part` must be one of {list(PARTS)}, got {part!r}")
        return tuple(limb for limb in self.limbs if limb.part == part)

    @property
    def ranking(self) -> tuple[str, ...]:
        """Observed limbs by amplitude, largest first."""
        observed = [limb for limb in self.limbs if limb.observed]
        return tuple(limb.name for limb in sorted(observed, key=lambda limb: -limb.amplitude))

    @property
    def moved_limbs(self) -> tuple[str, ...]:
        """Limbs that moved, by amplitude, largest first."""
        return tuple(name for name in self.ranking if self.limb(name).moved)

    @property
    def top_limb(self) -> str | None:
        """The limb that moved most (`None` when nothing moved)."""
        moved = self.moved_limbs
        return moved[0] if moved else None

    @property
    def order(self) -> tuple[str, ...]:
        """Moved limbs in the order of their first event."""
        first: dict[str, int] = {}
        for event in self.events:
            first.setdefault(event.limb, event.start_frame)
        return tuple(sorted(first, key=lambda name: (first[name], -self.limb(name).amplitude)))

    def part_observed(self, part: str) -> bool:
        return any(limb.observed for limb in self.limbs_of(part))

    def part_moved(self, part: str) -> bool:
        """Any limb of the part moved."""
        return any(limb.moved for limb in self.limbs_of(part))

    @property
    def moved_parts(self) -> tuple[str, ...]:
        return tuple(part for part in PARTS if self.part_moved(part))

    def moved_sides(self, part: str) -> tuple[str, ...]:
        """The person's sides on which an arm or leg moved: the moved limbs whose amplitude is at least
        `side_ratio` of the larger moved one's (so one side when it clearly dominates, both when they compare).

        Example: the right arm swept up (amplitude 1.6) while the left one swayed (0.3) -> ``("right",)``.
        """
        if part not in SIDED_PARTS:
            raise ValueError(f"sides exist for {list(SIDED_PARTS)}, not {part!r}")
        moved = [limb for limb in self.limbs_of(part) if limb.moved]
        if not moved:
            return ()
        strongest = max(limb.amplitude for limb in moved)
        return tuple(limb.side for limb in moved if limb.amplitude >= self.side_ratio * strongest)

    @property
    def phases(self) -> tuple[tuple[MotionEvent, ...], ...]:
        """The events grouped into phases, in time order: an event joins the current phase when it starts before the
        middle of the phase's first event (limbs set off together: "raises the arm while stepping"), else it opens
        the next phase."""
        phases: list[list[MotionEvent]] = []
        for event in self.events:  # sorted by start
            if phases:
                lead = phases[-1][0]
                if event.start_frame < (lead.start_frame + lead.end_frame) / 2:
                    phases[-1].append(event)
                    continue
            phases.append([event])
        return tuple(tuple(phase) for phase in phases)

    def sides_in(self, events: Sequence[MotionEvent], part: str) -> tuple[str, ...]:
        """Like `moved_sides`, over some events (e.g. a phase): the sides of the part's events whose amplitude is at
        least `side_ratio` of the largest one's."""
        own = [event for event in events if event.part == part]
        if not own:
            return ()
        strongest = max(event.amplitude for event in own)
        return tuple(
            side
            for side in ("left", "right")
            if any(e.side == side and e.amplitude >= self.side_ratio * strongest for e in own)
        )

    def events_of(self, limb: str) -> tuple[MotionEvent, ...]:
        return tuple(event for event in self.events if event.limb == limb)

    def to_dict(self) -> dict:
        """JSON-ready form (no per-frame arrays)."""
        return {
            "num_frames": self.num_frames,
            "time_unit": self.time_unit,
            "dims": self.dims,
            "limbs": {limb.name: limb.to_dict() for limb in self.limbs},
            "ranking": list(self.ranking),
            "moved_limbs": list(self.moved_limbs),
            "order": list(self.order),
            "events": [event.to_dict() for event in self.events],
            "phases": [[self.events.index(event) for event in phase] for phase in self.phases],
        }


def _quiet_nan(function, *args, **kwargs):
    """numpy's nan-reductions warn on all-NaN slices; here those slices are expected and give NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


def _median_filter(points: np.ndarray, window: int) -> np.ndarray:
    """NaN-aware temporal median over `window` frames (edges repeat the first/last frame)."""
    frames = len(points)
    if window <= 1 or frames < 3:
        return points
    half = window // 2
    padded = np.concatenate([points[:1].repeat(half, 0), points, points[-1:].repeat(half, 0)])
    stacked = np.stack([padded[k : k + frames] for k in range(2 * half + 1)])
    return _quiet_nan(np.nanmedian, stacked, axis=0)


def _rotate(vectors: np.ndarray, axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of `(F, K, 3)` vectors about a unit `axis` by per-frame `angles` `(F,)`."""
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    cross = np.cross(axis, vectors)
    dot = (vectors @ axis)[..., None]
    return vectors * cos + cross * sin + axis * dot * (1.0 - cos)


def _remove_heading(points: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    """3D points re-expressed about the hip centre with the hip line's rotation about the trunk axis undone."""
    pelvis = points[:, [index[n] for n in _HIPS]].mean(axis=1)  # (F, 3)
    neck = points[:, [index[n] for n in _SHOULDERS]].mean(axis=1)
    trunk = neck - pelvis
    trunk /= np.linalg.norm(trunk, axis=-1, keepdims=True)
    up = _quiet_nan(np.nanmedian, trunk, axis=0)
    if not np.isfinite(up).all() or np.linalg.norm(up) < 1e-6:
        return points
    up /= np.linalg.norm(up)
    lateral = points[:, index["left_hip"]] - points[:, index["right_hip"]]
    lateral -= (lateral @ up)[:, None] * up
    valid = np.isfinite(lateral).all(axis=1) & (np.linalg.norm(lateral, axis=1) > 1e-9)
    if not valid.any():
        return points
    reference = lateral[np.argmax(valid)]
    reference /= np.linalg.norm(reference)
    forward = np.cross(up, reference)
    angles = np.arctan2(lateral @ forward, lateral @ reference)  # heading of each frame, (F,)
    centred = points - pelvis[:, None]
    out = _rotate(centred, up, -np.where(valid, angles, 0.0))
    out[~valid] = np.nan
    return out


def _trunk_rotations(points: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    """`(F, D, D)` rotations into the trunk's frame (NaN where shoulders or hips are missing).

    3D: axes are the shoulder line, the trunk axis (hip centre to shoulder centre) and their normal, so arms and
    head measured in it ignore the trunk's bending, leaning and twisting. 2D: the in-plane angle of the trunk axis.
    """
    pelvis = points[:, [index[n] for n in _HIPS]].mean(axis=1)
    neck = points[:, [index[n] for n in _SHOULDERS]].mean(axis=1)
    up = neck - pelvis
    if points.shape[2] == 2:
        angle = -np.arctan2(up[:, 1], up[:, 0])
        cos, sin = np.cos(angle), np.sin(angle)
        return np.stack([np.stack([cos, -sin], axis=-1), np.stack([sin, cos], axis=-1)], axis=1)
    y = up / np.linalg.norm(up, axis=-1, keepdims=True)
    lateral = points[:, index["left_shoulder"]] - points[:, index["right_shoulder"]]
    x = lateral - (lateral * y).sum(-1, keepdims=True) * y
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return np.stack([x, y, np.cross(x, y)], axis=1)  # rows are the axes: R @ v gives v's trunk coordinates


def _diameter(trajectory: np.ndarray) -> float:
    """Largest distance between two finite rows of `(F, D)` (NaN with fewer than two)."""
    rows = trajectory[np.isfinite(trajectory).all(axis=1)]
    if len(rows) < 2:
        return float("nan")
    best = 0.0
    for start in range(0, len(rows), 256):  # chunks keep the (chunk, F) distance matrix small on long clips
        block = rows[start : start + 256]
        best = max(best, float(np.linalg.norm(block[:, None] - rows[None], axis=-1).max()))
    return best


def _chain_point(points: np.ndarray, names: tuple[str, ...], index: Mapping[str, int]) -> np.ndarray:
    present = [index[name] for name in names if name in index]
    if len(names) > 1 and names == _HEAD:  # the face keypoints come and go with the view: use the seen ones
        return _quiet_nan(np.nanmean, points[:, present], axis=1)
    return points[:, present].mean(axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """`(first, last)` index pairs of the runs of True in a 1D mask."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def _merge(runs: list[tuple[int, int]], relative: np.ndarray) -> list[tuple[int, int]]:
    """Join consecutive runs of one limb into one movement when the pause between them is no longer than the shorter
    run (a stutter), or when the limb stays away from where the first run started (a raise, a hold and a lowering;
    waving with the arm held up). Runs index the steps between frames: run ``(a, b)`` spans frames ``a..b + 1``."""
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged:
            prev_first, prev_last = merged[-1]
            gap = first - prev_last - 1
            start_pose = relative[prev_first]  # (J, D)
            pause = _quiet_nan(np.nanmean, relative[prev_last + 1 : first + 1], axis=0)
            away = _quiet_nan(np.nanmax, np.linalg.norm(pause - start_pose, axis=-1))
            reach = _quiet_nan(np.nanmax, np.linalg.norm(relative[prev_first : prev_last + 2] - start_pose, axis=-1))
            if gap <= min(prev_last - prev_first + 1, last - first + 1) or away >= 0.5 * reach:
                merged[-1] = (prev_first, last)
                continue
        merged.append((first, last))
    return merged


def _jitter(relative: np.ndarray) -> float:
    """Pose jitter of `(F, J, D)` keypoint tracks: the lower quartile of their second differences' sizes (noise is in
    every frame, movement only in some). For white noise it is about 1.2 times the median frame-to-frame step."""
    if len(relative) < 3:
        return 0.0
    second = np.linalg.norm(np.diff(relative, n=2, axis=0), axis=-1)
    return float(np.nan_to_num(_quiet_nan(np.nanpercentile, second, 25)))


def _measure_limb(
    spec: _LimbSpec,
    points: np.ndarray,
    index: Mapping[str, int],
    rotations: np.ndarray,
    dt: np.ndarray,
    config: KinematicsConfig,
) -> tuple[LimbActivity, np.ndarray | None]:
    """The limb's activity and its keypoints relative to the anchor in limb lengths, `(F, J, D)` (None if unseen).

    `points` are in the pelvis frame; `rotations` `(F, D, D)` take pelvis-frame vectors into the trunk's frame."""
    frames = len(points)
    joints = [index[name] for name in spec.joints if name in index]
    nan = float("nan")
    unseen = LimbActivity(spec.name, spec.part, spec.side, False, nan, False, nan, np.full(frames - 1, np.nan))
    if not joints or any(name not in index for name in spec.anchor):
        return unseen, None
    anchor = points[:, [index[name] for name in spec.anchor]].mean(axis=1)  # (F, D)
    relative = points[:, joints] - anchor[:, None]  # (F, J, D)
    if spec.frame == "trunk":
        relative = np.einsum("fij,fkj->fki", rotations, relative)
    chain = [_chain_point(points, names, index) for names in spec.chain]
    length = sum(np.linalg.norm(b - a, axis=-1) for a, b in zip(chain[:-1], chain[1:], strict=True))  # (F,)
    scale = _quiet_nan(np.nanmedian, length)
    seen = np.isfinite(relative).all(axis=-1).any(axis=1)  # (F,) some keypoint of the limb is there
    if not np.isfinite(scale) or scale <= 0 or seen.sum() < max(2, config.min_visible * frames):
        return unseen, None
    relative = relative / scale
    amplitude = max(
        (value for value in (_diameter(relative[:, j]) for j in range(len(joints))) if np.isfinite(value)),
        default=float("nan"),
    )
    if not np.isfinite(amplitude):
        return unseen, None
    steps = np.linalg.norm(np.diff(relative, axis=0), axis=-1)  # (F - 1, J)
    speed = _quiet_nan(np.nanmean, steps, axis=1) / dt
    # Simulated white noise, 2D and 3D, 8-100 frames: its diameter stays below ~4.5 jitters (99th percentile).
    floor = max(config.min_amplitude[spec.part], config.noise_factor * _jitter(relative))
    limb = LimbActivity(
        spec.name, spec.part, spec.side, True, float(amplitude), bool(amplitude >= floor), floor, speed
    )
    return limb, relative


def _limb_events(
    limb: LimbActivity, relative: np.ndarray, times: np.ndarray, config: KinematicsConfig
) -> list[MotionEvent]:
    steps = np.nan_to_num(_quiet_nan(np.nanmean, np.linalg.norm(np.diff(relative, axis=0), axis=-1), axis=1))
    peak = float(steps.max()) if len(steps) else 0.0
    if not limb.moved or peak <= 0:
        return []
    # Frame steps rather than speeds: the same up to the frame interval, and comparable with the jitter. A run must
    # reach `active_fraction` of the peak step and twice the jitter once, and lasts while above half of both.
    high = max(config.active_fraction * peak, 2.0 * _jitter(relative))
    runs = [(first, last) for first, last in _runs(steps >= 0.5 * high) if steps[first : last + 1].max() >= high]
    runs = _merge(runs, relative)
    events = []
    for first, last in runs:  # run of steps first..last spans frames first..last + 1
        amplitude = max(
            (
                v
                for v in (_diameter(relative[first : last + 2, j]) for j in range(relative.shape[1]))
                if np.isfinite(v)
            ),
            default=0.0,
        )
        events.append(
            MotionEvent(
                limb.name,
                limb.part,
                limb.side,
                int(first),
                int(last + 1),
                float(times[first]),
                float(times[last + 1]),
                float(amplitude),
            )
        )
    kept = [event for event in events if event.amplitude >= 0.5 * limb.threshold]
    if kept or not events:
        return kept
    return [max(events, key=lambda event: event.amplitude)]  # a moved limb keeps its largest run


def summarize_motion(
    points: np.ndarray,
    keypoint_names: Sequence[str],
    fps: float | None = None,
    scores: np.ndarray | None = None,
    timestamps: np.ndarray | None = None,
    config: KinematicsConfig | None = None,
) -> MotionSummary:
    """Motion events of one person's keypoints over a clip.

    Args:
        points (`np.ndarray` of shape `(F, K, 2)` or `(F, K, 3)`): image keypoints (x, y) or 3D joints (x, y, z), in
            `keypoint_names` order; NaN marks a missing keypoint. SynthMotion's ``joints/<id>.npy`` are `(F, 17, 3)`
            COCO-17 joints. A `PoseTrack`'s `(F, K, 3)` keypoints carry scores, not depth: use
            `summarize_track_motion`.
        keypoint_names (`Sequence[str]` of length `K`): the layout, e.g. `COCO17_NAMES` or BlazePose-33's names.
        fps (`float`, *optional*): frame rate, to give times in seconds (ignored when `timestamps` is given).
        scores (`np.ndarray` of shape `(F, K)`, *optional*): keypoint confidences; below `config.min_score` a
            keypoint is treated as missing.
        timestamps (`np.ndarray` of shape `(F,)`, *optional*): the time of each frame in seconds.
        config ([`KinematicsConfig`], *optional*): thresholds; defaults to `KinematicsConfig()`.

    Returns:
        [`MotionSummary`].

    Raises:
        `ValueError`: bad shapes, a layout without shoulders and hips, or fewer than two frames.
    """
    config = config or KinematicsConfig()
    points = np.array(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[2] not in (2, 3):
        raise ValueError(f"`points` must have shape (F, K, 2) or (F, K, 3), got {points.shape}")
    frames, num_keypoints, dims = points.shape
    if len(keypoint_names) != num_keypoints:
        raise ValueError(
            f"`keypoint_names` has {len(keypoint_names)} names but `points` has {num_keypoints} keypoints"
        )
    if frames < 2:
        raise ValueError(f"motion needs at least 2 frames, got {frames}")
    index = {str(name): i for i, name in enumerate(keypoint_names)}
    missing = [name for name in (*_SHOULDERS, *_HIPS) if name not in index]
    if missing:
        raise ValueError(f"the keypoint layout lacks {missing}, which every limb is measured from")
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (frames, num_keypoints):
            raise ValueError(f"`scores` must have shape {(frames, num_keypoints)}, got {scores.shape}")
        points[~(scores >= config.min_score)] = np.nan
    if timestamps is not None:
        times, unit = np.asarray(timestamps, dtype=np.float64), "s"
        if times.shape != (frames,):
            raise ValueError(f"`timestamps` must have shape ({frames},), got {times.shape}")
    elif fps is not None:
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"`fps` must be positive, got {fps}")
        times, unit = np.arange(frames) / float(fps), "s"
    else:
        times, unit = np.arange(frames, dtype=np.float64), "frame"
    dt = np.diff(times)
    dt = np.where(dt > 0, dt, np.nan)

    if unit == "s" and config.smooth_seconds > 0:
        frames_per_span = int(config.smooth_seconds / _quiet_nan(np.nanmedian, dt)) if np.isfinite(dt).any() else 1
        points = _median_filter(points, max(1, frames_per_span - (1 - frames_per_span % 2)))
    if dims == 3 and config.remove_heading:
        points = _remove_heading(points, index)
    rotations = _trunk_rotations(points, index)

    limbs, events = [], []
    for spec in LIMB_SPECS:
        limb, relative = _measure_limb(spec, points, index, rotations, dt, config)
        limbs.append(limb)
        if relative is not None:
            events += _limb_events(limb, relative, times, config)
    events.sort(key=lambda event: (event.start_frame, -event.amplitude))
    return MotionSummary(tuple(limbs), tuple(events), times, unit, dims, config.side_ratio)


def summarize_track_motion(
    track: PoseTrack, use_world: bool = True, config: KinematicsConfig | None = None
) -> MotionSummary:
    """`summarize_motion` of a `PoseTrack`: its metric 3D joints when it has them (and `use_world`), else its image
    keypoints; the keypoint scores mark missing keypoints either way, and the track's timestamps give the times."""
    scores = track.keypoints[..., 2]
    world = use_world and track.world_keypoints is not None
    points = track.world_keypoints if world else track.keypoints[..., :2]
    timestamps = np.asarray(track.timestamps, dtype=np.float64)
    if len(timestamps) > 1 and not (np.diff(timestamps) > 0).all():
        timestamps = None  # not increasing: fall back to frame order
    return summarize_motion(points, track.keypoint_names, scores=scores, timestamps=timestamps, config=config)
