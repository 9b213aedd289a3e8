"""Which body parts, on which sides, a caption says moved.

`find_body_parts` reads an English caption with a small lexicon and a few word-order rules (no parser model):

- **Parts.** Nouns map to the four parts the pose tracks measure: arm (arm, hand, fist, elbow, wrist, shoulder,
  finger, palm, forearm, thumb), leg (leg, foot, knee, ankle, hip, thigh, shin, toe, heel, calf; "lower body"),
  head (head, face, chin, neck, forehead), torso (torso, waist, trunk, chest, abdomen, belly; "upper body").
  Verbs that imply a part name it too (kick, step, squat, jump, walk, ... -> leg; punch, wave, clap, point, throw,
  reach -> arm; nod -> head; bend, lean, bow, stoop -> torso; look/glance with a direction -> head), unless their
  object is a body part ("bends both knees" names the legs, not the torso).
- **Sides.** "left"/"right" before a part noun (over determiners, possessives and adjectives: "his left upper arm")
  give it a side; "both", "each", "left and right" and a bare plural ("raises his arms") make it ``"both"``;
  "left arm and leg" passes the side on; "with his right" (no noun) gives it to the nearest sided part mentioned
  before in the clause. Sides are the person's own, as the caption states them. Any other "left"/"right" (to the
  left, on the left-hand side, turns right) is a direction, kept apart and never a side.
- **Roles.** A part is a *mover* unless it is a place or a target: after a preposition of place ("above the head",
  "to the head", "in front of the chest", "from the hips"), before height/level/width ("to hip height"), or the
  object of a contact verb ("touches the head with the right hand": the hand moved, the head need not). A part in a
  clause with a negation or a stillness phrase ("without moving his legs", "keeps the feet still") is *negated*.

Mentions outside the lexicon, other people's limbs and figurative uses are not told apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["BodyPartMention", "CaptionParts", "find_body_parts"]

SIDE_WORDS = ("left", "right")

_PART_NOUNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "arm": ("arm", ("arms",)),
    "hand": ("arm", ("hands",)),
    "fist": ("arm", ("fists",)),
    "elbow": ("arm", ("elbows",)),
    "wrist": ("arm", ("wrists",)),
    "shoulder": ("arm", ("shoulders",)),
    "finger": ("arm", ("fingers",)),
    "palm": ("arm", ("palms",)),
    "forearm": ("arm", ("forearms",)),
    "thumb": ("arm", ("thumbs",)),
    "leg": ("leg", ("legs",)),
    "foot": ("leg", ("feet",)),
    "knee": ("leg", ("knees",)),
    "ankle": ("leg", ("ankles",)),
    "hip": ("leg", ("hips",)),
    "thigh": ("leg", ("thighs",)),
    "shin": ("leg", ("shins",)),
    "toe": ("leg", ("toes",)),
    "heel": ("leg", ("heels",)),
    "calf": ("leg", ("calves",)),
    "head": ("head", ()),
    "face": ("head", ()),
    "chin": ("head", ()),
    "neck": ("head", ()),
    "forehead": ("head", ()),
    "torso": ("torso", ()),
    "waist": ("torso", ()),
    "trunk": ("torso", ()),
    "chest": ("torso", ()),
    "abdomen": ("torso", ()),
    "belly": ("torso", ()),
}
NOUNS: dict[str, tuple[str, bool]] = {}  # word -> (part, plural)
for _singular, (_part, _plurals) in _PART_NOUNS.items():
    NOUNS[_singular] = (_part, False)
    NOUNS.update({plural: (_part, True) for plural in _plurals})
# two-word nouns: (first, second) -> (part, side it implies)
BIGRAMS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("upper", "body"): ("torso", None),
    ("lower", "body"): ("leg", "both"),
}

_DOUBLED = {"step", "hop", "jog", "clap", "nod", "stop", "skip"}
_IRREGULAR = {
    "run": ("ran",),
    "throw": ("threw", "thrown"),
    "kneel": ("knelt",),
    "leap": ("leapt",),
    "bend": ("bent",),
    "catch": ("caught",),
    "lean": ("leant",),
    "stride": ("strode",),
}


def _forms(base: str) -> set[str]:
    """The base, third person, gerund and past forms of a regular verb (plus its irregular ones)."""
    third = base + "es" if base.endswith(("ch", "sh", "s", "x")) else base + "s"
    if base in _DOUBLED:
        stem = base + base[-1]
        gerund, past = stem + "ing", stem + "ed"
    elif base.endswith("e"):
        gerund, past = base[:-1] + "ing", base + "d"
    else:
        gerund, past = base + "ing", base + "ed"
    return {base, third, gerund, past, *_IRREGULAR.get(base, ())}


_VERB_BASES: dict[str, tuple[str, ...]] = {
    "leg": ("kick", "step", "stomp", "squat", "crouch", "kneel", "jump", "hop", "leap", "walk", "run", "jog",
            "march", "stride", "tiptoe", "lunge"),
    "arm": ("punch", "wave", "clap", "point", "throw", "reach", "catch", "gesture", "salute", "applaud"),
    "head": ("nod",),
    "torso": ("bend", "lean", "bow", "stoop", "hunch", "slouch"),
}  # fmt: skip
VERBS: dict[str, str] = {form: part for part, bases in _VERB_BASES.items() for base in bases for form in _forms(base)}
# verbs that name the head only with a direction after them ("looks to the left", not "looks at the ball")
LOOK_VERBS: set[str] = _forms("look") | _forms("glance")
_LOOK_DIRECTIONS = {"left", "right", "around", "up", "down", "away", "back", "sideways", "over"}
CONTACT_VERBS: set[str] = set().union(
    *(_forms(base) for base in ("touch", "tap", "pat", "rub", "scratch", "hold", "grab", "grip", "grasp", "cover",
                                "clutch", "stroke", "wipe", "hit", "strike", "slap", "massage", "caress", "cup"))
) | {"held", "struck"}  # fmt: skip

# words that may stand between a side word and its noun ("his left upper arm", "both of her hands")
_MODIFIERS = {
    "the", "a", "an", "his", "her", "their", "its", "one's", "own", "of", "upper", "lower", "outstretched", "raised",
    "extended", "bent", "straight", "straightened", "entire", "whole", "two", "open", "opened", "closed", "clenched",
    "free", "dominant", "lifted", "stretched",
}  # fmt: skip
# a part right after one of these (its modifiers skipped) is a place or target, not a mover
_PLACE_WORDS = {
    "above", "over", "to", "toward", "towards", "at", "near", "on", "onto", "upon", "against", "across", "around",
    "from", "behind", "beside", "below", "under", "beneath", "into", "past", "by", "between", "along", "off", "in",
    "about", "through", "front", "top", "back", "side", "middle", "level", "beyond", "within",
}  # fmt: skip
_PLACE_AFTER = {"height", "level", "width", "length", "high"}
_NEGATIONS = {
    "not", "never", "no", "without", "nor", "neither", "doesn't", "don't", "didn't", "isn't", "aren't", "wasn't",
    "weren't", "won't", "cannot", "can't", "hardly", "barely",
}  # fmt: skip
_STILL_WORDS = {"stationary", "motionless", "static", "unmoving", "immobile", "frozen"}
_KEEP_VERBS = {"stays", "stay", "stayed", "remains", "remain", "remained", "keeps", "keep", "kept", "holds", "held"}
# words that end a clause (side hand-over and verb objects do not cross them)
_CLAUSE_BREAKS = {"then", "while", "whilst", "but", "before", "after", "when", "as", "finally", "meanwhile"}
_PUNCTUATION = set(".,;:!?()")
_STEP_BREAKS = {"then", "finally", "next", "afterwards", "afterward", "later", "subsequently", ".", ";", "!", "?"}
_INSTRUMENT = {"with", "using"}
_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[.,;:!?()]")


@dataclass(frozen=True)
class BodyPartMention:
    """One body part a caption names.

    Args:
        part (`str`): `"arm"`, `"leg"`, `"head"` or `"torso"`.
        side (`str`, *optional*): `"left"` or `"right"` (the person's own), `"both"`, or `None` when unsaid.
        text (`str`): the words that name it, e.g. ``"left hand"`` or ``"kicks"``.
        start (`int`) and end (`int`): its character span in the caption.
        source (`str`): `"noun"` or `"verb"` (a verb that implies the part, e.g. "kicks").
        role (`str`): `"mover"`, `"place"` (a place or target: "above the head") or `"negated"`.
        step (`int`): which step of the described sequence it belongs to: steps are cut at "then", "finally",
            "next", "afterwards", "later" and sentence ends ("while" and "and" keep one step).
    """

    part: str
    side: str | None
    text: str
    start: int
    end: int
    source: str
    role: str
    step: int = 0

    @property
    def sided(self) -> bool:
        return self.side in SIDE_WORDS

    def to_dict(self) -> dict:
        return {"part": self.part, "side": self.side, "text": self.text, "role": self.role, "step": self.step}


@dataclass(frozen=True)
class CaptionParts:
    """The body-part mentions of a caption.

    Args:
        caption (`str`): the text.
        mentions (`tuple[BodyPartMention, ...]`): in text order.
        directions (`tuple[str, ...]`): "left"/"right" used as directions, not sides of a part ("turns to the left").
    """

    caption: str
    mentions: tuple[BodyPartMention, ...]
    directions: tuple[str, ...]

    @property
    def movers(self) -> tuple[BodyPartMention, ...]:
        """The mentions of parts the caption says moved."""
        return tuple(m for m in self.mentions if m.role == "mover")


@dataclass
class _Token:
    text: str  # lower case
    start: int
    end: int
    clause: int
    step: int


def _tokenize(caption: str) -> list[_Token]:
    tokens, clause, step = [], 0, 0
    for match in _TOKEN.finditer(caption.replace("\u2019", "'")):
        word = match.group().lower()
        if word in _PUNCTUATION or word in _CLAUSE_BREAKS:
            clause += 1
        if word in _STEP_BREAKS:
            step += 1
        tokens.append(_Token(word, match.start(), match.end(), clause, step))
    return tokens


def _phrase_start(tokens: list[_Token], noun: int) -> tuple[int, str | None, bool]:
    """Walks back over a noun's modifiers: (index of the phrase's first token, side, an explicit side word seen)."""
    side, explicit, first = None, False, noun
    j = noun - 1
    while j >= 0 and noun - j <= 5:
        word = tokens[j].text
        if word in SIDE_WORDS and side is None:
            side, explicit, first = word, True, j
            if j >= 2 and tokens[j - 1].text in ("and", "or") and tokens[j - 2].text in SIDE_WORDS:
                side, first = "both", j - 2  # "left and right arms"
                j -= 2
        elif word in ("both", "each") and side is None:
            side, explicit, first = "both", True, j
        elif word in ("either", "other", "one"):
            explicit, first = True, j  # "the other arm": a side the caption does not name
        elif word in _MODIFIERS or word.endswith("'s"):
            first = j
        else:
            break
        j -= 1
    return first, side, explicit


def _negated(tokens: list[_Token], first: int, last: int) -> bool:
    """A negation earlier in the clause ("without moving his legs"), or a stillness word later in it ("keeps the
    feet still", "the legs stay motionless")."""
    clause = tokens[last].clause
    before = {t.text for t in tokens[:first] if t.clause == clause}
    after = {t.text for t in tokens[last + 1 :] if t.clause == clause}
    return bool(before & _NEGATIONS or after & _STILL_WORDS or ("still" in after and (before | after) & _KEEP_VERBS))


def _role(tokens: list[_Token], first: int, last: int) -> str:
    if _negated(tokens, first, last):
        return "negated"
    before = tokens[first - 1].text if first > 0 else ""
    after = tokens[last + 1].text if last + 1 < len(tokens) else ""
    if before in _PLACE_WORDS or before in CONTACT_VERBS or after in _PLACE_AFTER:
        return "place"
    return "mover"


def _noun_at(tokens: list[_Token], j: int) -> bool:
    following = tokens[j + 1].text if j + 1 < len(tokens) else ""
    return tokens[j].text in NOUNS or (tokens[j].text, following) in BIGRAMS


def _object_is_part(tokens: list[_Token], verb: int) -> bool:
    """The verb's object (over modifiers and side words) is a body-part noun."""
    j = verb + 1
    while (
        j < len(tokens)
        and not _noun_at(tokens, j)
        and (tokens[j].text in _MODIFIERS or tokens[j].text in SIDE_WORDS or tokens[j].text in ("both", "each"))
    ):
        j += 1
    return j < len(tokens) and _noun_at(tokens, j)


def find_body_parts(caption: str) -> CaptionParts:
    """The body parts a caption names, with sides and roles (see the module docstring for the rules).

    Example:

    ```python
    >>> parts = find_body_parts("The person raises the left arm above the head, then kicks with the right foot.")
    >>> [(m.part, m.side, m.role) for m in parts.mentions]
    [('arm', 'left', 'mover'), ('head', None, 'place'), ('leg', None, 'mover'), ('leg', 'right', 'mover')]
    ```
    """
    if not isinstance(caption, str):
        raise TypeError(f"`caption` must be a string, got {type(caption).__name__}")
    tokens = _tokenize(caption)
    found: list[tuple[int, BodyPartMention]] = []  # (token index, mention)
    used_sides: set[int] = set()
    i = 0
    while i < len(tokens):
        word = tokens[i].text
        following = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if (word, following) in BIGRAMS or word in NOUNS:
            if (word, following) in BIGRAMS:
                (part, implied), last, plural = BIGRAMS[(word, following)], i + 1, False
            else:
                (part, plural), implied, last = NOUNS[word], None, i
            if word == "hand" and following == "side":  # "on the left-hand side": a direction
                i += 1
                continue
            first, side, explicit = _phrase_start(tokens, i)
            if side is None and not explicit:
                side = implied or ("both" if plural else None)
            if side is None and not explicit and part in ("arm", "leg") and first >= 2:
                # "left arm and leg": the side carries over a coordination
                link = tokens[first - 1].text
                previous = found[-1] if found else None
                if link in ("and", "or") and previous and previous[0] == first - 2 and previous[1].sided:
                    side = previous[1].side
            used_sides.update(j for j in range(first, last + 1) if tokens[j].text in SIDE_WORDS)
            text = caption[tokens[first].start : tokens[last].end]
            role = _role(tokens, first, last)
            start, end, step = tokens[first].start, tokens[last].end, tokens[last].step
            found.append((last, BodyPartMention(part, side, text, start, end, "noun", role, step)))
            i = last + 1
            continue
        verb_part = VERBS.get(word)
        if word in LOOK_VERBS and any(t.text in _LOOK_DIRECTIONS for t in tokens[i + 1 : i + 4]):
            verb_part = "head"
        if verb_part is not None and not _object_is_part(tokens, i):
            role = "negated" if _negated(tokens, i, i) else "mover"
            token = tokens[i]
            found.append(
                (i, BodyPartMention(verb_part, None, token.text, token.start, token.end, "verb", role, token.step))
            )
        i += 1

    mentions = [mention for _, mention in found]
    directions = []
    for j, token in enumerate(tokens):
        if token.text not in SIDE_WORDS or j in used_sides:
            continue
        # "kicks with his right": an instrument without a noun takes the nearest unsided arm/leg of its clause
        k = j - 1
        while k >= 0 and (tokens[k].text in _MODIFIERS or tokens[k].text.endswith("'s")):
            k -= 1
        if k >= 0 and tokens[k].text in _INSTRUMENT:
            candidates = [
                n
                for n, (index, m) in enumerate(found)
                if index < j and tokens[index].clause == token.clause and m.part in ("arm", "leg") and m.side is None
            ]
            if candidates:
                n = candidates[-1]
                mentions[n] = replace(mentions[n], side=token.text)
                continue
        directions.append(token.text)
    return CaptionParts(caption, tuple(mentions), tuple(directions))
