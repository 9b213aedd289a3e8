"""The Snowball English ("Porter2") stemmer in pure Python, for the pure-Python METEOR.

METEOR 1.5 matches stems with the Snowball English stemmer (``org.tartarus.snowball.ext.englishStemmer`` inside
``meteor-1.5.jar``). This is the same published algorithm (https://snowballstem.org/algorithms/english/stemmer.html),
written out step by step so no stemming package is needed.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["stem"]

_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDINGS = frozenset("cdeghkmnrt")
_EXCEPTIONS = {
    "skis": "ski",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}
_AFTER_STEP_1A = frozenset(["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"])
_STEP2 = (
    ("ization", "ize"),
    ("ational", "ate"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("iveness", "ive"),
    ("tional", "tion"),
    ("biliti", "ble"),
    ("lessli", "less"),
    ("entli", "ent"),
    ("ation", "ate"),
    ("alism", "al"),
    ("aliti", "al"),
    ("ousli", "ous"),
    ("iviti", "ive"),
    ("fulli", "ful"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("abli", "able"),
    ("izer", "ize"),
    ("ator", "ate"),
    ("alli", "al"),
    ("bli", "ble"),
    ("ogi", "og"),
    ("li", ""),
)
_STEP3 = (
    ("ational", "ate"),
    ("tional", "tion"),
    ("alize", "al"),
    ("icate", "ic"),
    ("iciti", "ic"),
    ("ative", ""),
    ("ical", "ic"),
    ("ness", ""),
    ("ful", ""),
)
_STEP4 = (
    "ement",
    "ance",
    "ence",
    "able",
    "ible",
    "ment",
    "ant",
    "ent",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
    "ion",
    "al",
    "er",
    "ic",
)


def _is_vowel(word: str, i: int) -> bool:
    return word[i] in _VOWELS


def _region_after_vc(word: str, start: int) -> int:
    """Index after the first non-vowel that follows a vowel, searching from `start`."""
    for i in range(start + 1, len(word)):
        if not _is_vowel(word, i) and _is_vowel(word, i - 1):
            return i + 1
    return len(word)


def _regions(word: str) -> tuple[int, int]:
    for prefix in ("gener", "commun", "arsen"):
        if word.startswith(prefix):
            r1 = len(prefix)
            break
    else:
        r1 = _region_after_vc(word, 0)
    r2 = _region_after_vc(word, r1) if r1 < len(word) else len(word)
    return r1, r2


def _ends_short_syllable(word: str) -> bool:
    n = len(word)
    if n == 2:
        return _is_vowel(word, 0) and not _is_vowel(word, 1)
    if n >= 3:
        return (
            not _is_vowel(word, n - 3)
            and _is_vowel(word, n - 2)
            and not _is_vowel(word, n - 1)
            and word[n - 1] not in "wxY"
        )
    return False


def _is_short(word: str, r1: int) -> bool:
    return r1 >= len(word) and _ends_short_syllable(word)


def _has_vowel(part: str) -> bool:
    return any(ch in _VOWELS for ch in part)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball English stem of one lowercase word.

    Example:

    ```python
    >>> [stem(w) for w in ["raising", "raises", "generously", "movements", "quickly"]]
    ['rais', 'rais', 'generous', 'movement', 'quick']
    ```
    """
    if len(word) <= 2:
        return word
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    if word.startswith("'"):
        word = word[1:]
    if word.startswith("y"):
        word = "Y" + word[1:]
    chars = list(word)
    for i in range(1, len(chars)):
        if chars[i] == "y" and chars[i - 1] in _VOWELS:
            chars[i] = "Y"
    word = "".join(chars)
    r1, r2 = _regions(word)

    # Step 0: possessive apostrophes.
    for suffix in ("'s'", "'s", "'"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break

    # Step 1a.
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("ied", "ies")):
        word = word[:-2] if len(word) > 4 else word[:-1]
    elif word.endswith(("us", "ss")):
        pass
    elif word.endswith("s") and _has_vowel(word[:-2]):
        word = word[:-1]
    if word in _AFTER_STEP_1A:
        return word

    # Step 1b.
    for suffix in ("eedly", "ingly", "edly", "eed", "ing", "ed"):
        if not word.endswith(suffix):
            continue
        if suffix in ("eed", "eedly"):
            if len(word) - len(suffix) >= r1:
                word = word[: -len(suffix)] + "ee"
        else:
            base = word[: -len(suffix)]
            if _has_vowel(base):
                word = base
                if word.endswith(("at", "bl", "iz")):
                    word += "e"
                elif word.endswith(_DOUBLES):
                    word = word[:-1]
                elif _is_short(word, r1):
                    word += "e"
        break

    # Step 1c.
    if len(word) > 2 and word[-1] in "yY" and word[-2] not in _VOWELS:
        word = word[:-1] + "i"

    # Step 2.
    for suffix, replacement in _STEP2:
        if not word.endswith(suffix):
            continue
        if len(word) - len(suffix) >= r1:
            if suffix == "ogi":
                if word[-4:-3] == "l":
                    word = word[:-3] + replacement
            elif suffix == "li":
                if word[-3:-2] in _LI_ENDINGS and len(word) >= 3:
                    word = word[:-2]
            else:
                word = word[: -len(suffix)] + replacement
        break

    # Step 3.
    for suffix, replacement in _STEP3:
        if not word.endswith(suffix):
            continue
        if len(word) - len(suffix) >= r1 and (suffix != "ative" or len(word) - len(suffix) >= r2):
            word = word[: -len(suffix)] + replacement
        break

    # Step 4.
    for suffix in _STEP4:
        if not word.endswith(suffix):
            continue
        if len(word) - len(suffix) >= r2 and (suffix != "ion" or word[-4:-3] in ("s", "t")):
            word = word[: -len(suffix)]
        break

    # Step 5.
    if word.endswith("e"):
        base = word[:-1]
        if len(base) >= r2 or (len(base) >= r1 and not _ends_short_syllable(base)):
            word = base
    elif word.endswith("l") and len(word) - 1 >= r2 and word[-2:-1] == "l":
        word = word[:-1]

    return word.replace("Y", "y")
