"""Caption grammar and QA pairs for SynthMotion scripts.

Captions name the action (verb), the body part, the side *from the person's own perspective* ("left"/"right")
and the order ("then", "and finally"; "while" for two actions played together):

    The person raises the left arm above the head and lowers it again, then kicks forward with the right leg.

Phrasings vary (two variants per action, several sentence frames) but stay inside a small closed grammar:
`caption_vocabulary()` lists every word it can emit and `tokenize` splits text into those units, so a
word-level tokenizer can be built from the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np

from .actions import ACTIONS, SIDES, MotionScript, ScheduledAction

__all__ = [
    "DIMENSION",
    "PHRASES",
    "action_phrase",
    "caption_vocabulary",
    "describe_script",
    "make_qa",
    "parse_caption",
    "tokenize",
]

DIMENSION = "details_of_movements"

# verb -> (third person singular, gerund); every verb a phrase can use, spelled out (no inflection rules)
VERBS: dict[str, tuple[str, str]] = {
    "bend": ("bends", "bending"),
    "bring": ("brings", "bringing"),
    "clap": ("claps", "clapping"),
    "come": ("comes", "coming"),
    "jump": ("jumps", "jumping"),
    "kick": ("kicks", "kicking"),
    "lean": ("leans", "leaning"),
    "lift": ("lifts", "lifting"),
    "look": ("looks", "looking"),
    "lower": ("lowers", "lowering"),
    "nod": ("nods", "nodding"),
    "punch": ("punches", "punching"),
    "put": ("puts", "putting"),
    "raise": ("raises", "raising"),
    "rise": ("rises", "rising"),
    "rotate": ("rotates", "rotating"),
    "shake": ("shakes", "shaking"),
    "squat": ("squats", "squatting"),
    "stand": ("stands", "standing"),
    "step": ("steps", "stepping"),
    "straighten": ("straightens", "straightening"),
    "stretch": ("stretches", "stretching"),
    "take": ("takes", "taking"),
    "throw": ("throws", "throwing"),
    "tilt": ("tilts", "tilting"),
    "touch": ("touches", "touching"),
    "turn": ("turns", "turning"),
    "twist": ("twists", "twisting"),
    "wave": ("waves", "waving"),
}

# Verb phrases per action: `<verb>` is conjugated, `{side}` filled with "left"/"right". The first variant is the
# canonical one, used in QA.
PHRASES: dict[str, tuple[str, ...]] = {
    "raise_arm_overhead": (
        "<raise> the {side} arm above the head and <lower> it again",
        "<lift> the {side} arm overhead and <bring> it back down",
    ),
    "raise_arm_forward": (
        "<raise> the {side} arm forward to shoulder height and <lower> it again",
        "<stretch> the {side} arm out in front and <lower> it again",
    ),
    "raise_arm_side": (
        "<raise> the {side} arm out to the side and <lower> it again",
        "<lift> the {side} arm sideways to shoulder height and <bring> it back down",
    ),
    "raise_both_arms": (
        "<raise> both arms above the head and <lower> them again",
        "<lift> both arms overhead and <bring> them back down",
    ),
    "wave": ("<wave> the {side} hand", "<wave> with the {side} hand raised"),
    "punch": ("<punch> forward with the {side} fist", "<throw> a punch with the {side} arm"),
    "touch_head": ("<touch> the head with the {side} hand", "<raise> the {side} hand to the head"),
    "kick": ("<kick> forward with the {side} leg", "<kick> with the {side} foot"),
    "knee_raise": ("<lift> the {side} knee up to hip height", "<raise> the {side} knee and <put> the foot back down"),
    "leg_raise_side": (
        "<lift> the {side} leg out to the side",
        "<raise> the {side} leg sideways and <lower> it again",
    ),
    "step_forward": ("<step> forward with the {side} foot", "<take> a step forward, leading with the {side} foot"),
    "side_step": ("<step> to the {side}", "<take> a step to the {side}"),
    "turn": ("<turn> to the {side}", "<turn> the body a quarter turn to the {side}"),
    "squat": ("<squat> down and <stand> back up", "<bend> both knees into a squat and <rise> again"),
    "jump": ("<jump> up", "<jump> in place with both arms swinging up"),
    "bend_forward": (
        "<bend> forward at the waist and <straighten> up again",
        "<lean> forward from the hips and <come> back up",
    ),
    "lean": ("<lean> the upper body to the {side}", "<tilt> the torso to the {side}"),
    "twist_torso": ("<twist> the upper body to the {side}", "<rotate> the torso to the {side}"),
    "clap": ("<clap> the hands in front of the chest", "<bring> both hands together to clap"),
    "nod": ("<nod> the head", "<nod> the head up and down"),
    "shake_head": ("<shake> the head", "<shake> the head from side to side"),
    "turn_head": ("<turn> the head to the {side}", "<look> to the {side}"),
}

# "which side" questions of the sided actions: (question, answer template)
WHICH: dict[str, tuple[str, str]] = {
    "raise_arm_overhead": ("Which arm does the person raise above the head?", "The {side} arm."),
    "raise_arm_forward": ("Which arm does the person raise forward?", "The {side} arm."),
    "raise_arm_side": ("Which arm does the person raise out to the side?", "The {side} arm."),
    "wave": ("Which hand does the person wave?", "The {side} hand."),
    "punch": ("Which fist does the person punch with?", "The {side} fist."),
    "touch_head": ("Which hand does the person touch the head with?", "The {side} hand."),
    "kick": ("Which leg does the person kick with?", "The {side} leg."),
    "knee_raise": ("Which knee does the person lift?", "The {side} knee."),
    "leg_raise_side": ("Which leg does the person lift out to the side?", "The {side} leg."),
    "step_forward": ("Which foot does the person step forward with?", "The {side} foot."),
    "side_step": ("Which way does the person step?", "To the {side}."),
    "turn": ("Which way does the person turn?", "To the {side}."),
    "lean": ("Which way does the person lean?", "To the {side}."),
    "twist_torso": ("Which way does the person twist the upper body?", "To the {side}."),
    "turn_head": ("Which way does the person turn the head?", "To the {side}."),
}

SENTENCES: dict[int, tuple[str, ...]] = {
    1: ("The person {0}.", "In this clip, the person {0}."),
    2: ("The person {0}, then {1}.", "The person {0} and then {1}.", "First, the person {0}; then the person {1}."),
    3: (
        "The person {0}, then {1}, and finally {2}.",
        "First, the person {0}, then {1}, and finally {2}.",
        "The person {0}; then the person {1}; finally, the person {2}.",
    ),
}
FINE_FIRST = "The person {0}."
FINE_TOGETHER = "At the same time, the person {0}."
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six")
OPEN_FIRST = "What does the person do first?"
OPEN_LAST = "What does the person do last?"
OPEN_AFTER = "What does the person do after {0}?"
OPEN_COUNT = "How many movements does the person make?"
OPEN_SIDE_ANSWER = "The person {0}."
TRUE_FALSE = "True or false: the person {0}."
TRUE_FALSE_ORDER = "True or false: the person {0} before {1}."
ANSWER_TRUE, ANSWER_FALSE = "True", "False"

_VERB = re.compile(r"<([a-z]+)>")
_TOKEN = re.compile(r"[a-z]+|[^\sa-z]")


def action_phrase(name: str, side: str, form: str = "third", variant: int = 0) -> str:
    """The verb phrase of an action.

    Args:
        name (`str`): key of `PHRASES`.
        side (`str`): `"left"`, `"right"` or `"center"`.
        form (`str`, *optional*, defaults to `"third"`): `"third"` ("raises ..."), `"gerund"` ("raising ...") or
            `"base"` ("raise ...").
        variant (`int`, *optional*, defaults to 0): which phrasing.
    """
    if name not in PHRASES:
        raise ValueError(f"`name` must be one of {list(PHRASES)}, got {name!r}")
    if form not in ("third", "gerund", "base"):
        raise ValueError(f"`form` must be 'third', 'gerund' or 'base', got {form!r}")
    template = PHRASES[name][variant % len(PHRASES[name])]
    if "{side}" in template and side not in SIDES:
        raise ValueError(f"Action {name!r} needs `side` 'left' or 'right', got {side!r}")

    def conjugate(match: re.Match) -> str:
        verb = match.group(1)
        return {"base": verb, "third": VERBS[verb][0], "gerund": VERBS[verb][1]}[form]

    return _VERB.sub(conjugate, template).replace("{side}", side)


def _step_text(step: Sequence[ScheduledAction], variants: Sequence[int]) -> str:
    main = action_phrase(step[0].name, step[0].side, "third", variants[0])
    if len(step) > 1:
        main += " while " + action_phrase(step[1].name, step[1].side, "gerund", variants[1])
    return main


def describe_script(script: MotionScript, rng: np.random.Generator) -> tuple[str, list[str]]:
    """The whole-clip caption and one sentence per action (in temporal order).

    Returns:
        `tuple[str, list[str]]`: `(whole, fine)`.
    """
    steps = script.steps
    if not 1 <= len(steps) <= max(SENTENCES):
        raise ValueError(f"Scripts of 1-{max(SENTENCES)} steps can be captioned, got {len(steps)}")
    variants = [[int(rng.integers(2)) for _ in step] for step in steps]
    frames = SENTENCES[len(steps)]
    whole = frames[int(rng.integers(len(frames)))].format(
        *(_step_text(s, v) for s, v in zip(steps, variants, strict=True))
    )
    fine = []
    for step, chosen in zip(steps, variants, strict=True):
        for k, (action, variant) in enumerate(zip(step, chosen, strict=True)):
            phrase = action_phrase(action.name, action.side, "third", variant)
            fine.append((FINE_TOGETHER if k else FINE_FIRST).format(phrase))
    return whole, fine


def _qa(question: str, answer: str, kind: str) -> dict:
    return {"question": question, "answer": answer, "type": kind, "dimension": DIMENSION}


def make_qa(script: MotionScript, rng: np.random.Generator) -> list[dict]:
    """Open-ended and true/false questions about the actions, their sides and their order.

    Open: which side did a sided action use; what happens first / after X / last; how many movements. True/false:
    a sided action with its true or its mirrored side, an action that does not occur, and the order of two steps.
    Every row is `{"question", "answer", "type": "open" | "true_false", "dimension": "details_of_movements"}`.
    """
    qa: list[dict] = []
    steps = script.steps
    sided = [a for a in script.actions if a.side in SIDES and a.name in WHICH]
    if sided:
        action = sided[int(rng.integers(len(sided)))]
        question, answer = WHICH[action.name]
        qa.append(_qa(question, answer.format(side=action.side), "open"))
    if len(steps) > 1:
        qa.append(_qa(OPEN_FIRST, OPEN_SIDE_ANSWER.format(_step_text(steps[0], [0, 0])), "open"))
        k = int(rng.integers(len(steps) - 1))
        after = OPEN_AFTER.format(action_phrase(steps[k][0].name, steps[k][0].side, "gerund"))
        qa.append(_qa(after, OPEN_SIDE_ANSWER.format(_step_text(steps[k + 1], [0, 0])), "open"))
        if len(steps) > 2:
            qa.append(_qa(OPEN_LAST, OPEN_SIDE_ANSWER.format(_step_text(steps[-1], [0, 0])), "open"))
    qa.append(_qa(OPEN_COUNT, NUMBERS[len(script.actions)].capitalize() + ".", "open"))

    if sided:
        action = sided[int(rng.integers(len(sided)))]
        truth = bool(rng.random() < 0.5)
        side = action.side if truth else ("right" if action.side == "left" else "left")
        statement = TRUE_FALSE.format(action_phrase(action.name, side, "third"))
        qa.append(_qa(statement, ANSWER_TRUE if truth else ANSWER_FALSE, "true_false"))
    present = {a.name for a in script.actions}
    absent = [name for name in ACTIONS if name not in present]
    name = absent[int(rng.integers(len(absent)))]
    side = SIDES[int(rng.integers(2))] if ACTIONS[name].sided else "center"
    qa.append(_qa(TRUE_FALSE.format(action_phrase(name, side, "third")), ANSWER_FALSE, "true_false"))
    if len(steps) > 1:
        i, j = sorted(int(v) for v in rng.choice(len(steps), size=2, replace=False))
        first, second = steps[i][0], steps[j][0]
        truth = bool(rng.random() < 0.5)
        a, b = (first, second) if truth else (second, first)
        statement = TRUE_FALSE_ORDER.format(
            action_phrase(a.name, a.side, "third"), action_phrase(b.name, b.side, "gerund")
        )
        qa.append(_qa(statement, ANSWER_TRUE if truth else ANSWER_FALSE, "true_false"))
    return qa


def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, the units of `caption_vocabulary`."""
    return _TOKEN.findall(text.lower())


def _grammar_texts() -> Iterator[str]:
    for name, variants in PHRASES.items():
        sides = SIDES if ACTIONS[name].sided else ("center",)
        for variant in range(len(variants)):
            for side in sides:
                for form in ("third", "gerund", "base"):
                    yield action_phrase(name, side, form, variant)
    for question, answer in WHICH.values():
        yield question
        for side in SIDES:
            yield answer.format(side=side)
    for frames in SENTENCES.values():
        yield from frames
    yield from (FINE_FIRST, FINE_TOGETHER, OPEN_FIRST, OPEN_LAST, OPEN_AFTER, OPEN_COUNT, OPEN_SIDE_ANSWER)
    yield from (TRUE_FALSE, TRUE_FALSE_ORDER, ANSWER_TRUE, ANSWER_FALSE, " while ")
    yield from (number.capitalize() + "." for number in NUMBERS)


def caption_vocabulary() -> list[str]:
    """Every word and punctuation mark the caption and QA grammar can emit, lower-cased and sorted.

    Example:

    ```python
    >>> vocab = caption_vocabulary()
    >>> {"left", "right", "then", "while", "finally", "."} <= set(vocab)
    True
    ```
    """
    words: set[str] = set()
    for text in _grammar_texts():
        words.update(tokenize(re.sub(r"\{\d\}", " ", text)))
    return sorted(words)


_BASE_FORM = {inflected: verb for verb, forms in VERBS.items() for inflected in forms}


def _normalize(text: str) -> str:
    """The grammar's units, single-spaced, every verb in its base form (so "raises" and "raising" read alike)."""
    return " ".join(_BASE_FORM.get(token, token) for token in tokenize(text))


def _phrase_patterns() -> list[tuple[re.Pattern, str, str]]:
    """Every phrasing of every action, normalised, longest first (so a longer phrase wins an overlap)."""
    patterns = set()
    for name, variants in PHRASES.items():
        sides = SIDES if ACTIONS[name].sided else ("center",)
        for variant in range(len(variants)):
            for side in sides:
                patterns.add((_normalize(action_phrase(name, side, "base", variant)), name, side))
    ordered = sorted(patterns, key=lambda item: (-len(item[0]), item))
    return [(re.compile(r"\b" + re.escape(phrase) + r"\b"), name, side) for phrase, name, side in ordered]


_PATTERNS: list[tuple[re.Pattern, str, str]] | None = None


def parse_caption(text: str) -> list[tuple[str, str]]:
    """The actions a caption of the grammar names, in order of mention: `[(action name, side), ...]`.

    Every phrasing (both variants) is matched, longest first, without overlaps, with verbs compared in their base
    form; words outside any phrase are ignored. So the parse also reads imperfect model outputs ("raises the left
    arm above the head and lowering it again").

    Example:

    ```python
    >>> parse_caption("The person waves the left hand, then kicks with the right foot.")
    [('wave', 'left'), ('kick', 'right')]
    ```
    """
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = _phrase_patterns()
    lowered = _normalize(text)
    taken = np.zeros(len(lowered) + 1, dtype=bool)
    found: list[tuple[int, str, str]] = []
    for pattern, name, side in _PATTERNS:
        for match in pattern.finditer(lowered):
            if not taken[match.start() : match.end()].any():
                taken[match.start() : match.end()] = True
                found.append((match.start(), name, side))
    return [(name, side) for _, name, side in sorted(found)]
