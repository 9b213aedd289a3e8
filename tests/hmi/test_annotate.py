"""The annotator client against a canned OpenAI-compatible server: request shape, schema checks, retries."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from hmi_helpers import canned_annotation

from macm.evaluation.judge import DIMENSIONS
from macm.processing.hmi.annotate import Annotator, AnnotatorConfig, chat_endpoint
from macm.processing.hmi.prompts import load_annotation_prompt
from macm.processing.hmi.schema import AnnotationFormatError, caption_windows, parse_annotation

KEYFRAMES = [np.full((48, 64, 3), 30 * k, dtype=np.uint8) for k in range(6)]
TIMES = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def annotator(url: str, **overrides) -> Annotator:
    settings = {"model": "canned", "retries": 3, "backoff": 0.01, "timeout": 10.0, "max_images": 4, **overrides}
    return Annotator(AnnotatorConfig(url=url, **settings))


def test_request_carries_the_prompt_and_keyframes_as_images(canned_server):
    server = canned_server()
    outcome = annotator(server.url).annotate(KEYFRAMES, TIMES, 7.0, source_caption="A man stretches.")
    assert outcome.ok and len(outcome.attempts) == 1
    body = server.requests[0]
    assert body["model"] == "canned" and body["temperature"] == 0
    system, user = body["messages"]
    assert system["role"] == "system" and "fine-grained" in system["content"]
    text = user["content"][0]["text"]
    assert "exactly 2 fine-grained captions" in text and "0.0-3.5 s, 3.5-7.0 s" in text
    assert "exactly 1 captions" in text and "A man stretches." in text
    images = [part["image_url"]["url"] for part in user["content"] if part["type"] == "image_url"]
    assert len(images) == 4  # max_images of the 6 keyframes
    assert base64.b64decode(images[0].split(",", 1)[1])[:3] == b"\xff\xd8\xff"  # JPEG
    annotation = outcome.annotation
    assert len(annotation.fine) == 2 and len(annotation.contextual) == 1
    assert {qa.dimension for qa in annotation.qa} == set(DIMENSIONS)
    assert outcome.prompt_version == "annotate_v1" and outcome.fine_windows == [(0.0, 3.5), (3.5, 7.0)]


def test_http_500_malformed_json_and_timeout_are_retried_then_succeed(canned_server):
    server = canned_server(script=["500", "malformed", "slow", "ok"], slow_seconds=2.0)
    outcome = annotator(server.url, timeout=0.5).annotate(KEYFRAMES, TIMES, 3.0)
    assert outcome.ok
    kinds = [attempt.error_kind for attempt in outcome.attempts]
    assert kinds == ["http", "malformed_json", "timeout", None]
    assert outcome.attempts[0].status_code == 500 and "canned HTTP 500" in outcome.attempts[0].response
    assert "{fine: [oops" in outcome.attempts[1].response  # the raw body is kept
    record = json.loads(json.dumps(outcome.to_record()))
    assert [a["attempt"] for a in record["attempts"]] == [1, 2, 3, 4] and record["ok"]


def test_a_server_that_keeps_failing_is_recorded_with_every_attempt(canned_server):
    server = canned_server(default="schema")
    outcome = annotator(server.url, retries=2).annotate(KEYFRAMES, TIMES, 3.0)
    assert not outcome.ok and len(outcome.attempts) == 3 == len(server.requests)
    assert all(a.error_kind == "schema" and a.response for a in outcome.attempts)
    assert outcome.error.startswith("schema: reply does not fit the annotation schema: qa: ")


def test_client_errors_are_not_retried(canned_server):
    server = canned_server(default="400")
    outcome = annotator(server.url).annotate(KEYFRAMES, TIMES, 3.0)
    assert not outcome.ok and len(server.requests) == 1
    assert outcome.attempts[0].status_code == 400


def test_unreachable_server_is_a_connection_failure():
    outcome = annotator("http://127.0.0.1:9", retries=1).annotate(KEYFRAMES, TIMES, 3.0)
    assert [a.error_kind for a in outcome.attempts] == ["connection", "connection"]


def test_replies_are_checked_against_the_schema_and_the_windows():
    good = canned_annotation(2, 1)
    fenced = "Here you go:\n```json\n" + json.dumps(good) + "\n```"
    assert parse_annotation(fenced, 2, 1).whole == good["whole"]
    loose = {**good, "qa": [{**qa, "dimension": qa["dimension"].replace("_", " ").title()} for qa in good["qa"]]}
    loose["qa"][1]["answer"] = "True."
    parsed = parse_annotation(json.dumps(loose), 2, 1)
    assert parsed.qa[0].dimension == "details_of_movements" and parsed.qa[1].answer == "yes"
    with pytest.raises(AnnotationFormatError, match="'fine' has 2 captions for 3 windows") as error:
        parse_annotation(json.dumps(good), 3, 1)
    assert error.value.kind == "schema"
    without_tf = {**good, "qa": [qa for qa in good["qa"] if qa["type"] == "open"]}
    with pytest.raises(AnnotationFormatError, match="need both types"):
        parse_annotation(json.dumps(without_tf), 2, 1)
    bad_tf = {**good, "qa": [*good["qa"], {**good["qa"][1], "answer": "perhaps"}]}
    with pytest.raises(AnnotationFormatError, match="not yes/no"):
        parse_annotation(json.dumps(bad_tf), 2, 1)
    with pytest.raises(AnnotationFormatError) as error:
        parse_annotation("no json here", 2, 1)
    assert error.value.kind == "malformed_json"


def test_windows_prompt_and_endpoint():
    assert caption_windows(10.0, 2.0, 5.0) == [(0.0, 5.0), (5.0, 10.0)]
    assert caption_windows(5.5, 6.0, 10.0) == []
    prompt = load_annotation_prompt()
    assert prompt.version == "annotate_v1" and len(prompt.sha256) == 64
    with pytest.raises(FileNotFoundError, match="annotate_v9"):
        load_annotation_prompt("annotate_v9")
    assert chat_endpoint("http://h:8000") == "http://h:8000/v1/chat/completions"
    assert chat_endpoint("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"
    with pytest.raises(ValueError, match="http://"):
        AnnotatorConfig(url="h:8000", model="m")
