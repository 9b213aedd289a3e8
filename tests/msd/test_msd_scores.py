"""The MSD rule (MSD.md, reconstruction v1) on hand-made distributions."""

import math

import pytest
import torch

from macm.modeling_macm.msd import MSD_TERMS, MotionSynergeticLogitsProcessor, msd_scores

ALPHA = (0.5, 0.2, 0.4, 0.8, 0.3, 2.0)
# vocabulary: foot, hand, head
P = [0.5, 0.3, 0.2]  # visual pathway: "foot" by a little
Q = [0.1, 0.7, 0.2]  # motion pathway: "hand" strongly


def logits(*rows):
    return torch.log(torch.tensor(rows, dtype=torch.float32))


def hand_terms(p: float, q: float, theta: float = 2.0) -> dict[str, float]:
    a1, a2, a3, a4, a5, a6 = ALPHA
    return {
        "L1": a1 * (math.exp(a6 * min(p, q)) - 1),
        "L2": a2 * (p + q) / 2,
        "L3": -a3 * math.log(1 + abs(p - q) / (p + q + 1e-8)),
        "L4": a4 * (p * q) ** (1 / theta),
        "L5": -a5 * (p - q) ** 2,
    }


def test_property_1_identical_pathways_pick_the_vanilla_token():
    torch.manual_seed(0)
    z = torch.randn(64, 500) * 3
    scores = msd_scores(z, z.clone())
    assert torch.equal(scores.argmax(-1), z.argmax(-1))


def test_property_2_motion_pathway_settles_a_close_call():
    scores = msd_scores(logits(P), logits(Q))
    assert scores.argmax(-1).item() == 1  # hand
    # worked by hand: S(foot) = 0.0973, S(hand) = 0.6951 -> hand scores log(0.5) + 0.6951
    expected_hand = math.log(0.5) + sum(hand_terms(0.3, 0.7).values())
    assert scores[0, 1].item() == pytest.approx(expected_hand, abs=1e-5)
    assert sum(hand_terms(0.5, 0.1).values()) == pytest.approx(0.0973, abs=1e-4)


def test_property_3_visually_implausible_token_is_never_emitted():
    visual = logits([0.90, 0.09, 0.01])
    motion = logits([1e-6, 1e-6, 1 - 2e-6])  # the motion pathway is certain of token 2
    scores = msd_scores(visual, motion)
    assert scores[0, 2].item() == float("-inf")
    assert scores.argmax(-1).item() != 2
    # however low the cutoff is made, the visual argmax always survives
    assert torch.isfinite(msd_scores(visual, motion, beta=1e6)[0, 0])


def test_pruning_cutoff_follows_step_synergy():
    visual, motion = logits(P), logits(Q)
    scores, step_synergy = msd_scores(visual, motion, return_step_synergy=True)
    s_top = sum(hand_terms(0.5, 0.1).values())  # the visual top token is foot
    assert step_synergy.item() == pytest.approx(s_top, abs=1e-5)
    cutoff = 0.2 * (1 + s_top) * 0.5  # = 0.1097: head (p = 0.2) stays, a p = 0.1 token would go
    assert torch.isfinite(scores).all()
    pruned = msd_scores(logits([0.5, 0.3, 0.1, 0.1]), logits([0.1, 0.7, 0.1, 0.1]))
    assert cutoff > 0.1 and torch.isinf(pruned[0, 2:]).all()


@pytest.mark.parametrize("term", MSD_TERMS)
def test_each_term_alone_adds_its_formula(term):
    base = msd_scores(logits(P), logits(Q), beta=0.0, terms=())
    alone = msd_scores(logits(P), logits(Q), beta=0.0, terms=(term,))
    for token, (p, q) in enumerate(zip(P, Q, strict=True)):
        assert base[0, token].item() == pytest.approx(math.log((p + q) / 2), abs=1e-6)
        assert (alone - base)[0, token].item() == pytest.approx(hand_terms(p, q)[term], abs=1e-5)


def test_terms_sum_to_the_full_rule():
    parts = sum(msd_scores(logits(P), logits(Q), beta=0.0, terms=(t,)) for t in MSD_TERMS)
    base = msd_scores(logits(P), logits(Q), beta=0.0, terms=())
    full = msd_scores(logits(P), logits(Q), beta=0.0)
    torch.testing.assert_close(full, parts - 4 * base, rtol=1e-5, atol=1e-5)


def test_theta_changes_only_the_power_term():
    a = msd_scores(logits(P), logits(Q), beta=0.0, theta=2.0, terms=("L4",))
    b = msd_scores(logits(P), logits(Q), beta=0.0, theta=4.0, terms=("L4",))
    expected = [0.8 * ((p * q) ** 0.25 - (p * q) ** 0.5) for p, q in zip(P, Q, strict=True)]
    torch.testing.assert_close((b - a)[0], torch.tensor(expected), rtol=1e-5, atol=1e-5)


def test_contrastive_baseline():
    visual, motion = logits(P), logits(Q)
    scores = msd_scores(visual, motion, synergy="contrastive", beta=0.0)
    torch.testing.assert_close(scores, 1.5 * motion - 0.5 * visual)
    pruned = msd_scores(visual, motion, synergy="contrastive", beta=0.5)  # keep p >= 0.25
    assert torch.isinf(pruned[0, 2]) and torch.isfinite(pruned[0, :2]).all()


def test_processor_reduces_paired_rows_and_records():
    processor = MotionSynergeticLogitsProcessor(record=True)
    scores = processor(torch.zeros(1, 3, dtype=torch.long), torch.cat([logits(P), logits(Q)]))
    assert scores.shape == (1, 3) and scores.argmax(-1).item() == 1
    step = processor.steps[0]
    assert (step.visual_top.item(), step.motion_top.item(), step.msd_top.item(), step.changed.item()) == (
        0,
        1,
        1,
        True,
    )
    with pytest.raises(ValueError, match="2 rows of logits per sequence"):
        processor(torch.zeros(2, 3, dtype=torch.long), torch.cat([logits(P), logits(Q)]))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"beta": -0.1}, "`beta`"),
        ({"beta": float("nan")}, "`beta`"),
        ({"alpha": (0.5, 0.2)}, "`alpha`"),
        ({"alpha": (0.5, 0.2, 0.4, 0.8, 0.3, float("inf"))}, "`alpha`"),
        ({"theta": 0.0}, "`theta`"),
        ({"synergy": "vcd"}, "`synergy`"),
        ({"terms": ("L1", "L6")}, "`terms`"),
        ({"terms": "L1"}, "`terms`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        msd_scores(logits(P), logits(Q), **kwargs)
    with pytest.raises(ValueError, match=name):
        MotionSynergeticLogitsProcessor(**kwargs)


def test_mismatched_logits_are_rejected():
    with pytest.raises(ValueError, match="motion_logits"):
        msd_scores(logits(P), logits(P + [0.0]))
    with pytest.raises(ValueError, match="visual_logits"):
        msd_scores(torch.zeros(3), torch.zeros(3))
