"""A pure-Python stand-in for pycocoevalcap's `PTBTokenizer` (Stanford CoreNLP 3.4.1, Java).

pycocoevalcap runs ``edu.stanford.nlp.process.PTBTokenizer -preserveLines -lowerCase`` on every caption and then
drops the tokens in its `PUNCTUATIONS` list. Every caption metric is computed on that output, so a pure-Python
path has to reproduce it. This module implements the PTB rules that matter for English captions:

- lowercasing (also of the bracket escapes: ``(`` becomes ``-lrb-``, which is *not* in the punctuation list, so
  coco keeps it as a word; so do we);
- punctuation split off words (``.``, ``,``, ``;``, ``:``, ``?``, ``!``, ``...``), but kept inside numbers
  (``3.5``, ``10,000``, ``5:30``), abbreviations (``p.m.``, ``e.g.``, ``mr.``) and hyphenated words;
- PTB quotes (``"`` to ``````/``''``, ``'`` to ````` or ``'``), unicode quotes and dashes (``—`` to ``--``),
  currency (``€`` to ``$``, ``£`` to ``#``);
- clitics: ``does n't``, ``ca n't``, ``wo n't``, ``can not``, ``person 's``, ``i 'm``, ``gon na``, ``wan na``.

`tests/evaluation/test_ptb_tokenizer.py` compares it with the Java tokenizer token for token.
"""

from __future__ import annotations

import re

__all__ = ["PUNCTUATIONS", "ptb_tokenize", "tokenize_caption", "tokenize_captions"]

# Tokens pycocoevalcap's ptbtokenizer.py removes after the Java tokenizer ran (its `PUNCTUATIONS` list, verbatim).
PUNCTUATIONS: frozenset[str] = frozenset(
    ["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"]
)

# Abbreviations that keep their final period in PTB (a subset of CoreNLP's list: the ones captions use).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "jr",
        "sr",
        "st",
        "vs",
        "etc",
        "inc",
        "ltd",
        "corp",
        "approx",
        "dept",
        "mt",
        "capt",
    ]
)
_CHAR_MAP = {
    "\u2018": "`",  # left single quote
    "\u2019": "'",  # right single quote
    "\u201c": '"',  # handled as an opening/closing double quote below
    "\u201d": '"',
    "\u2013": " -- ",  # en dash
    "\u2014": " -- ",  # em dash
    "\u2026": " ... ",  # ellipsis
    "\u20ac": "$",  # euro: PTB normalises currency to $
    "\u00a3": "#",  # pound
    "\u00a0": " ",
}
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
# Whole words PTB splits into two tokens.
_SPLIT_WORDS = {
    "cannot": ["can", "not"],
    "gonna": ["gon", "na"],
    "gotta": ["got", "ta"],
    "wanna": ["wan", "na"],
    "lemme": ["lem", "me"],
    "gimme": ["gim", "me"],
    "'tis": ["'t", "is"],
    "'twas": ["'t", "was"],
}
_CLITICS = ("n't", "'s", "'m", "'d", "'re", "'ve", "'ll")
_NUMBER = re.compile(r"^[+-]?\d(?:[\d,.:/]*\d)?$")
_ACRONYM = re.compile(r"^(?:[a-z]\.){2,}$|^[a-z]\.(?:[a-z]+\.)+$")
_SPLIT_OFF = set(",;!?%$#&*=+<>@^|~") | set(_BRACKETS)


def _split_word(word: str, out: list[str]) -> None:
    """Tokens of one whitespace-free chunk that contains no quote characters."""
    while word:
        # Leading punctuation.
        if word[0] in "?!":
            run = len(word) - len(word.lstrip("?!"))
            out.append(word[:run])  # "?!" and "!!!" stay one token, as in PTB
            word = word[run:]
            continue
        if word[0] in _SPLIT_OFF or word[0] == ":" or word.startswith("--"):
            step = 2 if word.startswith("--") else 1
            out.append(_BRACKETS.get(word[:step], word[:step]))
            word = word[step:]
            continue
        if word.startswith("..."):
            out.append("...")
            word = word[3:]
            continue
        # Find the end of the word-like prefix.
        end = len(word)
        for i, ch in enumerate(word):
            between_digits = 0 < i < len(word) - 1 and word[i - 1].isdigit() and word[i + 1].isdigit()
            if ch == "," and between_digits:
                continue  # 10,000 stays one token
            if ch in _SPLIT_OFF or word.startswith("--", i) or word.startswith("...", i):
                end = i
                break
            if ch == ":" and not between_digits:
                end = i
                break
        head, word = word[:end], word[end:]
        if not head:
            continue
        _emit_core(head, out)


def _emit_core(head: str, out: list[str]) -> None:
    """Tokens of a word without inner split-off punctuation: handles trailing periods, clitics, hyphens."""
    trailing: list[str] = []
    # Trailing periods: a lone "." is split unless the word is an abbreviation or an acronym like "p.m.".
    if head.endswith(".") and len(head) > 1:
        stem = head.rstrip(".")
        n_dots = len(head) - len(stem)
        initial = len(stem) == 1 and stem.isalpha()  # "a." as an initial
        if n_dots == 1 and (
            stem in _ABBREVIATIONS or initial or _ACRONYM.match(head) or ("." in stem and stem[0].isalpha())
        ):
            pass  # abbreviation: keeps its period (PTB may add a sentence-final "." after it; coco drops it anyway)
        else:
            head = stem
            trailing.append("." if n_dots == 1 else "...")
    if head in _SPLIT_WORDS:
        out.extend(_SPLIT_WORDS[head])
    elif head == "-":
        out.append("-")
    else:
        for clitic in _CLITICS:
            if head.endswith(clitic) and len(head) > len(clitic):
                out.extend([head[: -len(clitic)], clitic])  # does n't, ca n't, wo n't, person 's, i 'm
                break
        else:
            if head.endswith("'") and len(head) > 1 and head[-2] in "sS":
                out.extend([head[:-1], "'"])  # plural possessive: "players'" -> players '
            elif head.startswith("-") and len(head) > 1 and not _NUMBER.match(head):
                out.extend(["-", head[1:]])
            elif head.endswith("-") and len(head) > 1:
                out.extend([head[:-1], "-"])
            else:
                out.append(head)
    out.extend(trailing)


_QUOTE = re.compile(r"``|''|\"|`|'")
_CLITIC_AFTER_QUOTE = re.compile(r"^(?:s|m|d|re|ve|ll)(?![a-z])")


def _split_quotes(chunk: str) -> list[str]:
    """Splits PTB quote tokens off one whitespace-free chunk; apostrophes inside words stay."""
    pieces: list[str] = []
    position = 0
    current = ""
    for match in _QUOTE.finditer(chunk):
        quote, start = match.group(), match.start()
        current += chunk[position:start]
        position = match.end()
        before, after = current, chunk[position:]
        if quote == "'":
            if before and before[-1].isalnum() and after[:1].isalpha():
                current += quote  # inner apostrophe: "doesn't", clitics are split later
                continue
            if (not before or before[-1] in "([{") and (
                _CLITIC_AFTER_QUOTE.match(after) or re.match(r"^(?:tis|twas|\d\ds)(?![a-z])", after)
            ):
                current += quote  # "'s", "'tis" at the start of a chunk
                continue
            if before and before[-1] == "s":
                pieces.extend([before, "'"])  # closing quote or plural possessive: split either way
                current = ""
                continue
            token = "`" if not before or before[-1] in "([{" else "'"
        elif quote == '"':
            token = "``" if not before or before[-1] in "([{" else "''"
        else:
            token = quote
        if current:
            pieces.append(current)
        pieces.append(token)
        current = ""
    current += chunk[position:]
    if current:
        pieces.append(current)
    return pieces


def ptb_tokenize(text: str) -> list[str]:
    """Lowercased PTB tokens of one caption, before pycocoevalcap's punctuation removal.

    Args:
        text (`str`): the caption. Newlines are treated as spaces, as pycocoevalcap does.

    Returns:
        `list[str]`: the tokens, e.g. ``["he", "does", "n't", "stop", "."]``.
    """
    text = text.replace("\n", " ").replace("\r", " ")
    text = "".join(_CHAR_MAP.get(ch, ch) for ch in text).lower()
    chunks = text.split()
    tokens: list[str] = []
    for chunk in chunks:
        for piece in _split_quotes(chunk):
            if piece in ("``", "''", "`", "'"):
                tokens.append(piece)
            else:
                _split_word(piece, tokens)
    return tokens


def tokenize_caption(text: str) -> str:
    """pycocoevalcap's tokenised form of one caption: PTB tokens without punctuation, joined by single spaces.

    Example:

    ```python
    >>> tokenize_caption('He doesn\\'t stop; the man (in red) "waves" his LEFT hand.')
    "he does n't stop the man -lrb- in red -rrb- waves his left hand"
    ```
    """
    return " ".join(token for token in ptb_tokenize(text) if token not in PUNCTUATIONS)


def tokenize_captions(captions: dict[str, list[str]]) -> dict[str, list[str]]:
    """`tokenize_caption` over a ``{id: [caption, ...]}`` mapping (pycocoevalcap's `PTBTokenizer.tokenize` shape)."""
    return {key: [tokenize_caption(text) for text in texts] for key, texts in captions.items()}
