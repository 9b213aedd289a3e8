"""The pure-Python PTB tokenizer and METEOR pieces against values of the Java originals."""

from __future__ import annotations

import pytest
from evaluation_helpers import requires_coco

from macm.evaluation.meteor import WordNetSynonyms, load_meteor_synonyms, meteor_corpus, meteor_normalize
from macm.evaluation.porter2 import stem
from macm.evaluation.ptb_tokenizer import ptb_tokenize, tokenize_caption

TRICKY = [
    'A man (in a red shirt) raises his LEFT hand, then "waves" it.',
    "He doesn't stop; she can't see the person's face... It's 3.5 meters away -- roughly 90% of 10,000 cm!",
    "The woman's right-hand fingers curl and/or extend [slowly] {twice} & the colour of her behaviour changes.",
    "She says 'hello' and moves on. He's at 5:30 p.m. in the U.S. Mr. Smith rocks. $5 for \u00a33 or \u20ac2.",
    "\"Quoted\" start and `weird` quotes ''here'' \u2013 en dash \u2014 em dash \u2018curly\u2019 \u201cdouble\u201d.",
    "I'm gonna do it; they'll wanna go. Cannot, won't. e.g. etc. vs. a.m.",
    "The players' hands rise?! Yes: twice.",
    "tabs\tand  spaces   end.",
]


def test_ptb_tokens_match_java_output():
    # Output of `java edu.stanford.nlp.process.PTBTokenizer -preserveLines -lowerCase` (CoreNLP 3.4.1).
    assert ptb_tokenize(TRICKY[0]) == (
        [
            "a",
            "man",
            "-lrb-",
            "in",
            "a",
            "red",
            "shirt",
            "-rrb-",
            "raises",
            "his",
            "left",
            "hand",
            ",",
            "then",
            "``",
            "waves",
            "''",
            "it",
            ".",
        ]
    )
    assert ptb_tokenize(TRICKY[1]) == (
        [
            "he",
            "does",
            "n't",
            "stop",
            ";",
            "she",
            "ca",
            "n't",
            "see",
            "the",
            "person",
            "'s",
            "face",
            "...",
            "it",
            "'s",
            "3.5",
            "meters",
            "away",
            "--",
            "roughly",
            "90",
            "%",
            "of",
            "10,000",
            "cm",
            "!",
        ]
    )
    assert tokenize_caption(TRICKY[3]) == (
        "she says hello and moves on he 's at 5:30 p.m. in the u.s. mr. smith rocks $ 5 for # 3 or $ 2"
    )


@requires_coco
def test_tokenize_caption_equals_pycocoevalcap_on_tricky_text():
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    java = PTBTokenizer().tokenize({str(i): [{"caption": text}] for i, text in enumerate(TRICKY)})
    for i, text in enumerate(TRICKY):
        assert tokenize_caption(text) == java[str(i)][0], text


@pytest.mark.parametrize(
    "word, expected",
    [
        ("raising", "rais"),
        ("generously", "generous"),
        ("hopping", "hop"),
        ("hoping", "hope"),
        ("ponies", "poni"),
        ("ties", "tie"),
        ("relational", "relat"),
        ("sensibility", "sensibl"),
        ("knightly", "knight"),
        ("dying", "die"),
        ("news", "news"),
        ("succeed", "succeed"),
        ("controlled", "control"),
        ("shoulders", "shoulder"),
    ],
)
def test_porter2_stems(word, expected):
    # Values of the Snowball English stemmer's published vocabulary/output lists.
    assert stem(word) == expected


def test_meteor_normalization_follows_meteor_norm():
    assert meteor_normalize("he 's left-hand does n't 5:30 p.m. mr. and/or") == [
        "he", "'", "s", "left", "hand", "does", "n", "'t", "5", ":", "30", "p.m.", "mr.", "and", "/", "or"
    ]  # fmt: skip


def test_meteor_equals_java_exact_stem_on_a_worked_example():
    # `java -jar meteor-1.5.jar hyp ref -l en -norm -m 'exact stem'`: segments 0.493527472093534 and
    # 0.8285714285714284 (a full in-order stem match has no fragmentation), system 0.5019782412099251.
    corpus, segments = meteor_corpus(
        ["a man raises his left hand slowly", "the woman jumps"],
        [["a man slowly raises his left hand"], ["the woman jumped"]],
        synonyms=False,
    )
    assert segments == pytest.approx([0.493527472093534, 0.8285714285714284], abs=1e-12)
    assert corpus == pytest.approx(0.5019782412099251, abs=1e-12)


def test_meteor_best_reference_and_edge_cases():
    corpus, segments = meteor_corpus(["a b c"], [["x y", "a b c"]])
    assert segments == [1.0] and corpus == 1.0
    corpus, segments = meteor_corpus([""], [["a man walks"]])
    assert segments == [0.0] and corpus == 0.0


def test_wordnet_synonyms_lookup_rules():
    # Synset lines: word, then its synset ids; exceptions: base form, then its irregular forms.
    synonyms = WordNetSynonyms("lift\n1 2\nraise\n2 3\ngo\n7\nleave\n7 8\nbox\n9\n", "go\nwent gone\n")
    assert synonyms.synsets("raises") == {2, 3}  # morphy rule "s" -> ""
    assert synonyms.synsets("lifted") == {1, 2}  # "ed" -> ""
    assert synonyms.synsets("went") == {7}  # irregular form from the exceptions
    assert synonyms.synsets("boxes") == {9}  # "xes" -> "x"
    assert synonyms.synsets("glass") == frozenset()  # "ss" words are not reduced
    # "raises" and "lifted" now match as synonyms (METEOR module 2, weight 0.8) and score above no-synonym METEOR.
    with_syn, _ = meteor_corpus(["he raises it"], [["he lifted it"]], synonyms=synonyms)
    without, _ = meteor_corpus(["he raises it"], [["he lifted it"]], synonyms=False)
    assert with_syn > without


@requires_coco
def test_meteor_synonyms_from_the_jar():
    synonyms = load_meteor_synonyms()
    assert synonyms is not None and len(synonyms.word_to_synsets) > 100_000
    assert not synonyms.synsets("swings").isdisjoint(synonyms.synsets("sways"))
    assert not synonyms.synsets("lifts").isdisjoint(synonyms.synsets("raises"))
    assert synonyms.synsets("elbow").isdisjoint(synonyms.synsets("jumps"))
