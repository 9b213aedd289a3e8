"""A pure-Python METEOR 1.5 (Denkowski & Lavie, 2014) for machines without Java.

What it shares with ``meteor-1.5.jar -l en -norm`` (what pycocoevalcap runs):

- the English "rank" parameters ``alpha=0.85, beta=0.20, gamma=0.60, delta=0.75`` and module weights
  ``exact=1.0, stem=0.6, synonym=0.8``;
- the ``-norm`` tokenisation that still applies to PTB-tokenised text (hyphens dropped inside words, ``'s`` and
  ``n't`` split, symbols separated: `meteor_normalize`);
- matching modules: exact; Snowball stems (`porter2`); WordNet synonyms, read from the jar that the pycocoevalcap
  package ships (used when that package is installed, no Java needed: `load_meteor_synonyms`);
- content/function word weighting (``delta``) with METEOR's English function-word list;
- the score ``Fmean * (1 - gamma * (chunks / matches) ** beta)`` with ``Fmean = P R / (alpha P + (1 - alpha) R)``,
  no fragmentation for a complete in-order match;
- the best reference per segment and a corpus score from the summed sufficient statistics (not a mean).

What it leaves out: the paraphrase module (multi-word phrase table). Its aligner is a beam search like METEOR's
(most matches, fewest chunks, ...) checked against a longest-run alignment, which finds the same alignment almost
always but not always. `tests/evaluation/test_caption_metrics.py` measures the gap to Java METEOR.
"""

from __future__ import annotations

import heapq
import importlib.util
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tqdm.auto import tqdm

from .porter2 import stem

__all__ = [
    "MeteorStats",
    "WordNetSynonyms",
    "load_meteor_synonyms",
    "meteor_corpus",
    "meteor_normalize",
    "meteor_score_from_stats",
    "meteor_segment_stats",
    "resolve_synonyms",
]

logger = logging.getLogger(__name__)

ALPHA, BETA, GAMMA, DELTA = 0.85, 0.20, 0.60, 0.75
MODULE_WEIGHTS = (1.0, 0.6, 0.8)  # exact, stem, synonym
# METEOR 1.5's English function words (``function/english.words`` in meteor-1.5.jar).
FUNCTION_WORDS = frozenset(
    [
        "the",
        ",",
        ".",
        "to",
        "of",
        "and",
        "a",
        "in",
        "that",
        "for",
        '"',
        "is",
        "on",
        "'s",
        "it",
        "with",
        "was",
        "as",
        "said",
        "at",
        "he",
        "by",
        "be",
        "from",
        "have",
        "has",
        "are",
        "his",
        "but",
        "an",
        "this",
        "not",
        "i",
        "will",
        "’",
        "they",
        ")",
        "-rrb-",
        "(",
        "-lrb-",
        "who",
        "their",
        "had",
        "we",
        "which",
        "were",
        "been",
        "more",
        "or",
        "s",
        "its",
        "would",
        "about",
        "new",
        "one",
        "after",
        "you",
        ":",
        "also",
        "up",
        "when",
        "there",
        "than",
        "$",
        "all",
        "out",
        "her",
        "people",
        "she",
        "year",
        "two",
        "-",
        "can",
        "if",
        "last",
        "first",
        "“",
        "over",
        "other",
        "”",
        "into",
        "some",
        "what",
        "so",
        "--",
        "no",
        "time",
        "years",
        "could",
        "?",
        "'t",
        "—",
        "'",
    ]
)


_ALNUM = "0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017e"
_ALPHA = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017e"
_NORMALIZE_RULES = (
    # The English rules of METEOR's ``-norm`` (edu.cmu.meteor.util.Normalizer, a port of the Moses tokenizer) that
    # still change text pycocoevalcap has already PTB-tokenised.
    (re.compile(f"([^{_ALNUM}\\s.'`,\\-\u2018\u2019])"), r" \1 "),  # split symbols: 5:30 -> 5 : 30, and/or
    (re.compile(r"([^\d]),([^\d])"), r"\1 , \2"),
    (re.compile(r"(\d),([^\d])"), r"\1 , \2"),
    (re.compile(r"([^\d]),(\d)"), r"\1 , \2"),
    (re.compile("[`\u2018\u2019]"), "'"),
    (re.compile(f"([^{_ALPHA}])'([^{_ALPHA}])"), r"\1 ' \2"),
    (re.compile(f"([^{_ALPHA}\\d])'([{_ALPHA}])"), r"\1 ' \2"),  # 's -> ' s
    (re.compile(f"([{_ALPHA}])'([^{_ALPHA}])"), r"\1 ' \2"),
    (re.compile(f"([{_ALPHA}])'([{_ALPHA}])"), r"\1 '\2"),  # n't -> n 't
    (re.compile(r"(\d)'(s)"), r"\1 '\2"),
    (re.compile(f"([{_ALNUM}.])-([{_ALNUM}])"), r"\1 \2"),  # hyphens inside words are dropped: left-hand -> left hand
)
_NONBREAKING = frozenset(["mr", "mrs", "ms", "dr", "prof", "jr", "sr", "st", "vs", "etc", "no", "inc", "ltd", "co"])


def meteor_normalize(text: str) -> list[str]:
    """Tokens METEOR scores after its ``-norm`` option, for text that pycocoevalcap has already tokenised."""
    text = f" {text} "
    for pattern, replacement in _NORMALIZE_RULES:
        text = pattern.sub(replacement, text)
    tokens = []
    for token in text.lower().split():
        if token.endswith(".") and len(token) > 1:
            base = token[:-1]
            keep = ("." in base and re.search(f"[{_ALPHA}]", base)) or base in _NONBREAKING
            if not keep:
                tokens.extend([base, "."])
                continue
        tokens.append(token)
    return tokens


@dataclass
class MeteorStats:
    """Sufficient statistics of one segment (or, summed, of a corpus)."""

    test_length: int = 0
    ref_length: int = 0
    test_function_words: int = 0
    ref_function_words: int = 0
    # Per module (exact, stem): matched content / function words on each side.
    test_content_matches: list[int] = field(default_factory=lambda: [0, 0, 0])
    test_function_matches: list[int] = field(default_factory=lambda: [0, 0, 0])
    ref_content_matches: list[int] = field(default_factory=lambda: [0, 0, 0])
    ref_function_matches: list[int] = field(default_factory=lambda: [0, 0, 0])
    chunks: int = 0

    @property
    def matches(self) -> int:
        return sum(self.test_content_matches) + sum(self.test_function_matches)

    def __add__(self, other: MeteorStats) -> MeteorStats:
        def add(a: list[int], b: list[int]) -> list[int]:
            return [x + y for x, y in zip(a, b, strict=True)]

        return MeteorStats(
            self.test_length + other.test_length,
            self.ref_length + other.ref_length,
            self.test_function_words + other.test_function_words,
            self.ref_function_words + other.ref_function_words,
            add(self.test_content_matches, other.test_content_matches),
            add(self.test_function_matches, other.test_function_matches),
            add(self.ref_content_matches, other.ref_content_matches),
            add(self.ref_function_matches, other.ref_function_matches),
            self.chunks + other.chunks,
        )


def meteor_score_from_stats(stats: MeteorStats) -> float:
    """METEOR of a statistics record, as ``MeteorScorer.computeMetrics`` does it."""
    test_weighted_length = (
        DELTA * (stats.test_length - stats.test_function_words) + (1 - DELTA) * stats.test_function_words
    )
    ref_weighted_length = (
        DELTA * (stats.ref_length - stats.ref_function_words) + (1 - DELTA) * stats.ref_function_words
    )
    test_weighted = sum(
        w * (DELTA * c + (1 - DELTA) * f)
        for w, c, f in zip(MODULE_WEIGHTS, stats.test_content_matches, stats.test_function_matches, strict=True)
    )
    ref_weighted = sum(
        w * (DELTA * c + (1 - DELTA) * f)
        for w, c, f in zip(MODULE_WEIGHTS, stats.ref_content_matches, stats.ref_function_matches, strict=True)
    )
    precision = test_weighted / test_weighted_length if test_weighted_length > 0 else 0.0
    recall = ref_weighted / ref_weighted_length if ref_weighted_length > 0 else 0.0
    if precision <= 0 or recall <= 0:
        return 0.0
    f_mean = 1.0 / ((1 - ALPHA) / precision + ALPHA / recall)
    frag = stats.chunks / stats.matches
    return f_mean * (1.0 - GAMMA * frag**BETA)


class WordNetSynonyms:
    """METEOR's synonym module: two different words match when their WordNet synsets intersect.

    The data are the files METEOR ships inside ``meteor-1.5.jar`` (``synonym/english.synsets`` and
    ``synonym/english.exceptions``, WordNet 3.0 under its own permissive licence), read with `zipfile`, so no Java
    is needed. A word's synsets are its own plus those of its base forms: irregular forms from the exceptions list,
    otherwise the first WordNet "morphy" suffix rule that yields a known word (``edu.cmu.meteor.aligner
    .SynonymDictionary``, including its quirks).
    """

    _SUFFIXES = ("s", "ses", "xes", "zes", "ches", "shes", "men", "ies", "s", "ies", "es", "es", "ed", "ed", "ing",
                 "ing", "er", "est", "er", "est")  # fmt: skip
    _ADDITIONS = ("", "s", "x", "z", "ch", "sh", "man", "y", "", "y", "e", "", "e", "", "e", "", "", "", "e", "e")

    def __init__(self, synsets_text: str, exceptions_text: str):
        lines = synsets_text.splitlines()
        self.word_to_synsets: dict[str, frozenset[int]] = {
            lines[k]: frozenset(int(x) for x in lines[k + 1].split()) for k in range(0, len(lines) - 1, 2)
        }
        self.word_to_bases: dict[str, list[str]] = {}
        lines = exceptions_text.splitlines()
        for k in range(0, len(lines) - 1, 2):
            for form in lines[k + 1].split():
                self.word_to_bases.setdefault(form, []).append(lines[k])
        self._cache: dict[str, frozenset[int]] = {}

    @classmethod
    def from_jar(cls, jar_path: str | Path) -> WordNetSynonyms:
        with zipfile.ZipFile(jar_path) as jar:
            synsets = jar.read("synonym/english.synsets").decode("utf-8")
            exceptions = jar.read("synonym/english.exceptions").decode("utf-8")
        return cls(synsets, exceptions)

    def _morph(self, word: str) -> str:
        end = "ful" if word.endswith("ful") else ""
        if word.endswith("ss") or len(word) <= 2:
            return word
        for suffix, addition in zip(self._SUFFIXES, self._ADDITIONS, strict=True):
            if word.endswith(suffix):
                candidate = word[: len(word) - len(suffix)] + addition
                if candidate in self.word_to_synsets:
                    return candidate + end
        return ""

    def synsets(self, word: str) -> frozenset[int]:
        if word not in self._cache:
            found = set(self.word_to_synsets.get(word, ()))
            bases = self.word_to_bases.get(word)
            for base in bases if bases is not None else [self._morph(word)]:
                found |= self.word_to_synsets.get(base, frozenset())
            self._cache[word] = frozenset(found)
        return self._cache[word]


@lru_cache(maxsize=1)
def load_meteor_synonyms() -> WordNetSynonyms | None:
    """METEOR's WordNet synonyms from pycocoevalcap's ``meteor-1.5.jar`` when that package is installed, else `None`."""
    spec = importlib.util.find_spec("pycocoevalcap")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        jar = Path(location) / "meteor" / "meteor-1.5.jar"
        if jar.is_file():
            try:
                return WordNetSynonyms.from_jar(jar)
            except (OSError, KeyError, zipfile.BadZipFile) as error:
                logger.warning("cannot read METEOR synonyms from %s: %s", jar, error)
    return None


def _module_matrix(
    test: Sequence[str], ref: Sequence[str], synonyms: WordNetSynonyms | None
) -> list[list[int | None]]:
    """For every (test word, reference word): the first METEOR module that matches them (0 exact, 1 stem,
    2 synonym), or `None`. Like METEOR, stem and synonym matches are only sought between different words."""
    test_stems, ref_stems = [stem(w) for w in test], [stem(w) for w in ref]
    test_syn = [synonyms.synsets(w) for w in test] if synonyms else None
    ref_syn = [synonyms.synsets(w) for w in ref] if synonyms else None
    matrix: list[list[int | None]] = []
    for i, word in enumerate(test):
        row: list[int | None] = []
        for j, other in enumerate(ref):
            if word == other:
                row.append(0)
            elif test_stems[i] == ref_stems[j]:
                row.append(1)
            elif test_syn is not None and not test_syn[i].isdisjoint(ref_syn[j]):
                row.append(2)
            else:
                row.append(None)
        matrix.append(row)
    return matrix


def _beam_align(matrix: list[list[int | None]], beam_size: int = 40) -> list[tuple[int, int, int]]:
    """One-to-one alignment ``[(test_index, ref_index, module)]`` found by a beam search like METEOR's aligner.

    Test words are visited left to right; each partial alignment either skips the word or aligns it to a free
    reference word it matches. Partial alignments are ranked as METEOR resolves alignments: most matches, then fewest
    chunks, then the lowest (most exact) modules, then the smallest sum of ``|test_index - ref_index|``; the best
    `beam_size` are kept.
    """
    # state: (matches, chunks, module_sum, distance, used_mask, last_i, last_j, pairs)
    beam: list[tuple] = [(0, 0, 0, 0, 0, -2, -2, ())]
    for i, row in enumerate(matrix):
        options = [(j, module) for j, module in enumerate(row) if module is not None]
        if not options:
            continue
        successors: dict[tuple[int, bool, int], tuple] = {}
        for state in beam:
            matches, chunks, module_sum, distance, used, last_i, last_j, pairs = state
            new_states = [state]
            for j, module in options:
                if used >> j & 1:
                    continue
                continues = last_i == i - 1 and last_j == j - 1
                new_states.append(
                    (
                        matches + 1,
                        chunks + (0 if continues else 1),
                        module_sum + module,
                        distance + abs(i - j),
                        used | (1 << j),
                        i,
                        j,
                        (*pairs, (i, j, module)),
                    )
                )
            for new in new_states:
                # Two partial alignments with the same used words and the same chunk end are interchangeable.
                key = (new[4], new[5] == i, new[6])
                if key not in successors or _rank(new) < _rank(successors[key]):
                    successors[key] = new
        beam = sorted(successors.values(), key=_rank)[:beam_size]
    return sorted(beam[0][7])


def _rank(state: tuple) -> tuple[int, int, int, int]:
    matches, chunks, module_sum, distance = state[:4]
    return (-matches, chunks, module_sum, distance)


def _run_align(matrix: list[list[int | None]]) -> list[tuple[int, int, int]]:
    """Alignment by longest runs, module by module (exact, stem, synonym): each stage aligns the longest run of
    consecutive free word pairs its module matches first (ties: closest start positions, then earliest). Catches
    cases the left-to-right beam prunes."""
    n_test, n_ref = len(matrix), len(matrix[0]) if matrix else 0
    test_free = [True] * n_test
    ref_free = [True] * n_ref
    alignment: list[tuple[int, int, int]] = []
    for module in (0, 1, 2):

        def matchable(i: int, j: int, module=module) -> bool:
            return 0 <= i < n_test and 0 <= j < n_ref and test_free[i] and ref_free[j] and matrix[i][j] == module

        heap: list[tuple[int, int, int, int, int]] = []
        for i in range(n_test):
            for j in range(n_ref):
                if matchable(i, j) and not matchable(i - 1, j - 1):
                    length = 1
                    while matchable(i + length, j + length):
                        length += 1
                    heapq.heappush(heap, (-length, abs(i - j), i, j, length))
        while heap:
            _, _, i, j, length = heapq.heappop(heap)
            free = [test_free[i + k] and ref_free[j + k] for k in range(length)]
            if all(free):
                for k in range(length):
                    test_free[i + k] = ref_free[j + k] = False
                    alignment.append((i + k, j + k, module))
                continue
            k = 0
            while k < length:  # put the still-free pieces of a broken run back
                if not free[k]:
                    k += 1
                    continue
                start = k
                while k < length and free[k]:
                    k += 1
                heapq.heappush(heap, (start - k, abs(i - j), i + start, j + start, k - start))
    return sorted(alignment)


def _alignment_rank(alignment: list[tuple[int, int, int]]) -> tuple[int, int, int, int]:
    chunks, previous = 0, None
    for i, j, _ in alignment:
        if previous is None or i != previous[0] + 1 or j != previous[1] + 1:
            chunks += 1
        previous = (i, j)
    module_sum = sum(module for _, _, module in alignment)
    return (-len(alignment), chunks, module_sum, sum(abs(i - j) for i, j, _ in alignment))


def _align(
    test: Sequence[str], ref: Sequence[str], synonyms: WordNetSynonyms | None = None
) -> list[tuple[int, int, int]]:
    """The better (most matches, then fewest chunks, ...) of the beam-search and longest-run alignments."""
    matrix = _module_matrix(test, ref, synonyms)
    return min(_beam_align(matrix), _run_align(matrix), key=_alignment_rank)


def meteor_segment_stats(test: str, ref: str, synonyms: WordNetSynonyms | None = None) -> MeteorStats:
    """Statistics of one hypothesis against one reference (both PTB-tokenised, as pycocoevalcap passes them)."""
    test_words, ref_words = meteor_normalize(test), meteor_normalize(ref)
    alignment = _align(test_words, ref_words, synonyms)
    stats = MeteorStats(
        test_length=len(test_words),
        ref_length=len(ref_words),
        test_function_words=sum(w in FUNCTION_WORDS for w in test_words),
        ref_function_words=sum(w in FUNCTION_WORDS for w in ref_words),
    )
    previous = None
    for i, j, module in alignment:
        if test_words[i] in FUNCTION_WORDS:
            stats.test_function_matches[module] += 1
        else:
            stats.test_content_matches[module] += 1
        if ref_words[j] in FUNCTION_WORDS:
            stats.ref_function_matches[module] += 1
        else:
            stats.ref_content_matches[module] += 1
        if previous is None or i != previous[0] + 1 or j != previous[1] + 1:
            stats.chunks += 1
        previous = (i, j)
    if stats.chunks == 1 and stats.matches == stats.test_length == stats.ref_length:
        stats.chunks = 0  # METEOR: a complete, in-order match has no fragmentation (also in the corpus sums)
    return stats


def resolve_synonyms(synonyms: bool | str | WordNetSynonyms | None) -> WordNetSynonyms | None:
    """`WordNetSynonyms` for ``"auto"`` (when available), `True` (required) or an instance; `None` for False/None."""
    if isinstance(synonyms, WordNetSynonyms):
        return synonyms
    if synonyms in (None, False):
        return None
    if synonyms not in (True, "auto"):
        raise ValueError(f"synonyms must be 'auto', True, False or a WordNetSynonyms, got {synonyms!r}")
    loaded = load_meteor_synonyms()
    if loaded is None and synonyms is True:
        raise RuntimeError("METEOR synonyms need pycocoevalcap installed (its meteor-1.5.jar holds the WordNet data)")
    return loaded


def meteor_corpus(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    synonyms: bool | str | WordNetSynonyms | None = "auto",
) -> tuple[float, list[float]]:
    """Corpus METEOR and per-segment METEOR of tokenised predictions against one or more references each.

    Per segment the reference with the best score is kept (as METEOR does); the corpus score is computed from the
    kept statistics summed over segments.

    Args:
        synonyms (`bool`, `str` or `WordNetSynonyms`, *optional*, defaults to `"auto"`): use METEOR's WordNet
            synonym module when its data is available (``"auto"``), always (`True`, else an error) or never.

    Returns:
        `tuple[float, list[float]]`: the corpus score and one score per prediction.
    """
    synonyms = resolve_synonyms(synonyms)
    total = MeteorStats()
    scores: list[float] = []
    pairs = zip(predictions, references, strict=True)
    for prediction, refs in tqdm(pairs, total=len(predictions), desc="METEOR", disable=len(predictions) < 200):
        best_stats, best_score = None, -1.0
        for ref in refs:
            stats = meteor_segment_stats(prediction, ref, synonyms)
            score = meteor_score_from_stats(stats)
            if score > best_score:
                best_stats, best_score = stats, score
        scores.append(best_score)
        total = total + best_stats
    return (meteor_score_from_stats(total) if scores else 0.0), scores
