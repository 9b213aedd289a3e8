"""The LLM judge: a fake OpenAI-compatible server counts requests (cache), fails on purpose (retries), and parsing."""

from __future__ import annotations

import json

import pytest
from evaluation_helpers import FakeChatServer

from macm.evaluation.judge import (
    DIMENSIONS,
    PROMPTS_DIR,
    CaptionJudge,
    JudgeCache,
    JudgeParseError,
    OpenAIJudge,
    TransformersJudge,
    load_prompt,
    parse_dimension_scores,
    parse_single_score,
    summarize_judgements,
)

SCORES = dict(zip(DIMENSIONS, [7, 5, 3, 2, 8], strict=True))
ITEMS = [
    ("videos/a.mp4", ["A man raises his left arm slowly."], "A man lifts his left arm."),
    ("videos/b.mp4", ["A woman jumps twice, smiling.", "She hops two times."], "A woman jumps."),
    ("videos/c.mp4", ["A boy kicks a ball with his right foot."], "A boy kicks a ball."),
]


def always(scores=SCORES):
    return lambda n, body: (200, json.dumps(scores))


def make_judge(url: str, cache: JudgeCache, **kwargs) -> CaptionJudge:
    return CaptionJudge(OpenAIJudge(url, "judge-model", seed=7), cache=cache, backoff_s=0, **kwargs)


def test_cache_makes_a_rerun_free(tmp_path):
    cache_file = tmp_path / "judge_cache.jsonl"
    with FakeChatServer(always()) as server:
        first = make_judge(server.url, JudgeCache(cache_file)).judge_many(ITEMS, progress=False)
        assert len(server.requests) == 3
        assert all(r.scores == {d: float(v) for d, v in SCORES.items()} and not r.cached for r in first)

        # A new process: the cache is read back from its file; no request is made.
        again = make_judge(server.url, JudgeCache(cache_file)).judge_many(ITEMS, progress=False)
        assert len(server.requests) == 3
        assert [r.scores for r in again] == [r.scores for r in first]
        assert all(r.cached and r.attempts == 0 for r in again)

        # A changed prediction, a changed judge model or a changed prompt is a new judgement.
        changed = [(ITEMS[0][0], ITEMS[0][1], "A man lifts his right arm.")]
        make_judge(server.url, JudgeCache(cache_file)).judge_many(changed, progress=False)
        assert len(server.requests) == 4
        other_model = CaptionJudge(OpenAIJudge(server.url, "other-judge"), cache=JudgeCache(cache_file))
        other_model.judge(*ITEMS[0])
        assert len(server.requests) == 5
        prompt_file = tmp_path / "judge_v2.md"
        prompt_file.write_text((PROMPTS_DIR / "judge_v1.md").read_text().replace("judge_v1", "judge_v2"))
        new_prompt = CaptionJudge(
            OpenAIJudge(server.url, "judge-model", seed=7),
            prompt=load_prompt(prompt_file),
            cache=JudgeCache(cache_file),
        )
        new_prompt.judge(*ITEMS[0])
        assert len(server.requests) == 6
    assert len(cache_file.read_text().splitlines()) == 6


def test_request_is_deterministic_chat_completion():
    with FakeChatServer(always()) as server:
        judge = CaptionJudge(OpenAIJudge(server.url + "/v1", "judge-model", api_key="k", seed=7), backoff_s=0)
        judge.judge(*ITEMS[1])
    (body,) = server.requests
    assert server.paths == ["/v1/chat/completions"]
    assert body["model"] == "judge-model" and body["temperature"] == 0 and body["seed"] == 7
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "1. A woman jumps twice, smiling.\n2. She hops two times." in user["content"]
    assert "<candidate>\nA woman jumps.\n</candidate>" in user["content"]


def test_server_errors_then_succeeds(tmp_path):
    def flaky(n, body):
        return (
            (500, "overloaded") if n <= 2 else (200, "Sure! ```json\n" + json.dumps(SCORES) + "\n``` Hope this helps.")
        )

    with FakeChatServer(flaky) as server:
        result = make_judge(server.url, JudgeCache(tmp_path / "c.jsonl"), max_attempts=3).judge(*ITEMS[0])
    assert len(server.requests) == 3
    assert result.attempts == 3 and result.error is None
    assert result.overall == pytest.approx(sum(SCORES.values()) / 5)


def test_unparsable_reply_is_retried():
    replies = ["I think it is decent.", json.dumps(SCORES)]
    with FakeChatServer(lambda n, body: (200, replies[n - 1])) as server:
        result = make_judge(server.url, JudgeCache(), max_attempts=2).judge(*ITEMS[2])
    assert len(server.requests) == 2 and result.scores is not None and result.attempts == 2


def test_persistent_failure_is_reported_not_raised(tmp_path):
    cache = JudgeCache(tmp_path / "c.jsonl")
    with FakeChatServer(lambda n, body: (503, "down")) as server:
        results = make_judge(server.url, cache, max_attempts=2).judge_many(ITEMS[:2], progress=False)
    assert len(server.requests) == 4
    assert all(r.scores is None and "HTTP 503" in r.error and r.attempts == 2 for r in results)
    assert len(cache) == 0  # failures are not cached: the next run tries again
    summary = summarize_judgements(results)
    assert (
        summary["n_failed"] == 2
        and summary["overall"] is None
        and summary["failed_items"] == [i[0] for i in ITEMS[:2]]
    )


def test_unreachable_server_is_reported():
    judge = CaptionJudge(OpenAIJudge("http://127.0.0.1:9", "m", timeout=2), backoff_s=0, max_attempts=1)
    result = judge.judge(*ITEMS[0])
    assert result.scores is None and result.error


def test_summary_means():
    with FakeChatServer(lambda n, body: (200, json.dumps({d: n * 2 for d in DIMENSIONS}))) as server:
        results = make_judge(server.url, JudgeCache()).judge_many(ITEMS[:2], progress=False)
    summary = summarize_judgements(results)
    assert summary["dimensions"] == {d: 3.0 for d in DIMENSIONS}  # (2 + 4) / 2
    assert summary["overall"] == 3.0 and summary["n_judged"] == 2


@pytest.mark.parametrize(
    "reply, expected",
    [
        (json.dumps(SCORES), SCORES),
        ("```json\n" + json.dumps(SCORES) + "\n```", SCORES),
        (json.dumps(SCORES) + "\n\nExplanation: the candidate misses the left/right detail.", SCORES),
        ("Scores follow. " + json.dumps({"scores": SCORES, "comment": "ok"}), SCORES),
        (json.dumps({d: {"score": v, "why": "..."} for d, v in SCORES.items()}), SCORES),
        (json.dumps({d: f"{v}/10" for d, v in SCORES.items()}), SCORES),
        ("{'details_of_movements': 7, 'interaction_with_environment': 5, 'motivation_and_reason': 3, "
         "'micro_expressions_and_emotions': 2, 'character_attributes': 8,}", SCORES),
        ("Details of Movements: 7/10\nInteraction with Environment: 5/10\n- Motivation and Reason: 3\n"
         "**Micro-expressions and Emotions**: 2/10\nCharacter Attributes = 8", SCORES),
        (json.dumps({**SCORES, "details_of_movements": 14, "character_attributes": -2}),
         {**SCORES, "details_of_movements": 10, "character_attributes": 0}),
    ],
)  # fmt: skip
def test_parse_dimension_scores(reply, expected):
    assert parse_dimension_scores(reply) == {d: float(v) for d, v in expected.items()}


@pytest.mark.parametrize(
    "reply", ["", "no idea", json.dumps({d: 5 for d in DIMENSIONS[:4]}), "Details of Movements: 7/10"]
)
def test_parse_dimension_scores_rejects_incomplete(reply):
    with pytest.raises(JudgeParseError, match="lacks scores"):
        parse_dimension_scores(reply)


@pytest.mark.parametrize(
    "reply, expected",
    [("Score: 7/10", 7.0), ("I would give 8/10.", 8.0), ('{"score": 12}', 10.0), ("6", 6.0), ("score = 4.5", 4.5)],
)
def test_parse_single_score(reply, expected):
    assert parse_single_score(reply) == expected


def test_parse_single_score_rejects_text():
    with pytest.raises(JudgeParseError):
        parse_single_score("fine")


def test_prompt_file_validation(tmp_path):
    prompt = load_prompt("judge_v1")
    assert prompt.version == "judge_v1" and all(d in prompt.user_template for d in DIMENSIONS)
    bad = tmp_path / "bad.md"
    bad.write_text("---\nversion: x\n---\n## System\nbe fair\n## User\nno placeholders\n")
    with pytest.raises(ValueError, match=r"lacks the placeholder \{\{reference\}\}"):
        load_prompt(bad)
    with pytest.raises(FileNotFoundError, match="judge_v9"):
        load_prompt("judge_v9")


def test_openai_judge_endpoint_and_validation():
    assert OpenAIJudge("http://h:1", "m").endpoint == "http://h:1/v1/chat/completions"
    assert OpenAIJudge("http://h:1/v1/", "m").endpoint == "http://h:1/v1/chat/completions"
    assert OpenAIJudge("https://h/v1/chat/completions", "m").endpoint == "https://h/v1/chat/completions"
    with pytest.raises(ValueError, match="url must start with http"):
        OpenAIJudge("h:1", "m")
    with pytest.raises(ValueError, match="max_attempts must be >= 1, got 0"):
        CaptionJudge(OpenAIJudge("http://h:1", "m"), max_attempts=0)


def test_transformers_judge_is_greedy_and_failures_are_reported(tmp_path):
    """A tiny random local chat model: replies are reproducible, and an unusable reply becomes a reported failure."""
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {char: index for index, char in enumerate(bytes_to_unicode().values())}
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"eos_token": "<|im_end|>", "additional_special_tokens": ["<|im_start|>"]})
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=8192,
    )  # fmt: skip
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    backend = TransformersJudge(str(tmp_path), max_new_tokens=6, device="cpu")
    messages = load_prompt().render("A man waves.", "A man waves his hand.")
    first, second = backend.complete(messages), backend.complete(messages)
    assert isinstance(first, str) and first == second
    result = CaptionJudge(backend, backoff_s=0, max_attempts=1).judge("v.mp4", "A man waves.", "A man waves his hand.")
    assert result.scores is None and result.error.startswith("JudgeParseError")


def test_open_answers_are_judged_and_cached():
    cache = JudgeCache()
    with FakeChatServer(lambda n, body: (200, "The answer is close. Score: 7/10")) as server:
        judge = make_judge(server.url, cache)
        first = judge.judge_answer("videos/a.mp4#q1", "Why does he wave?", "To greet someone.", "He says hello.")
        again = judge.judge_answer("videos/a.mp4#q1", "Why does he wave?", "To greet someone.", "He says hello.")
    assert first.scores == {"score": 7.0} and first.overall == 7.0 and again.cached
    assert len(server.requests) == 1
    user = server.requests[0]["messages"][1]["content"]
    assert "<question>\nWhy does he wave?\n</question>" in user and "<candidate>\nHe says hello.\n</candidate>" in user


def test_prompt_render_checks_the_question_placeholder():
    with pytest.raises(ValueError, match="'judge_qa_v1' needs a question"):
        load_prompt("judge_qa_v1").render("ref", "pred")
    with pytest.raises(ValueError, match="'judge_v1' has no place for a question"):
        load_prompt("judge_v1").render("ref", "pred", question="q?")
