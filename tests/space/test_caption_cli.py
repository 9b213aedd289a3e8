"""`macm caption` on a freshly generated SynthMotion clip: the caption printed, `--json` parsed, the default model, and
`macm demo` serving the page and printing its URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from macm.cli import main

pytestmark = pytest.mark.usefixtures("blazepose")


def test_caption_prints_the_caption(synth_clip, space_model, check_names_action, capsys):
    clip, row = synth_clip
    budget = "80" if space_model.embedded else "8"  # the trained checkpoint ends its caption itself
    code = main(["caption", str(clip), "--model", str(space_model.path), "--max-new-tokens", budget])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].strip()
    if space_model.embedded:  # the trained checkpoint: the caption names what the humanoid did
        check_names_action(lines[0], row)


def test_caption_json_parses_with_keyframes_msd_and_timings(synth_clip, space_model, capsys):
    clip, _ = synth_clip
    code = main(["caption", str(clip), "--model", str(space_model.path), "--json", "--max-new-tokens", "5",
                 "--num-keyframes", "8", "--question", "What does the person do?", "--backend", "blazepose"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["question"] == "What does the person do?" and report["msd"] is True
    assert len(report["tokens"]) == len(report["changed"]) == len(report["step_synergy"])
    assert "".join(report["tokens"]) == report["caption"]
    assert (
        report["keyframes"]["indices"] == sorted(report["keyframes"]["indices"])
        and len(report["keyframes"]["indices"]) == 8
    )
    assert {"probe", "generate"} <= set(report["timings"]) and report["person_fraction"] > 0.5

    assert (
        main(["caption", str(clip), "--model", str(space_model.path), "--json", "--no-msd", "--max-new-tokens", "3"])
        == 0
    )
    plain = json.loads(capsys.readouterr().out)
    assert plain["msd"] is False and "changed" not in plain
    # without flags, the keyframe count and motion-frame style are the checkpoint's own
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(space_model.path, trust_remote_code=True)
    assert plain["num_keyframes"] == config.num_keyframes and report["num_keyframes"] == 8
    assert plain["motion_frame_style"] == config.motion_frame_style
    assert plain["motion_encoder"] == config.motion_encoder


def test_caption_defaults_to_macm_model_then_the_embedded_checkpoint(synth_clip, space_model, monkeypatch, capsys):
    from macm.processing import caption_cli

    monkeypatch.delenv("MACM_MODEL", raising=False)
    monkeypatch.setattr(caption_cli, "EMBEDDED_MODEL", space_model.path)
    assert caption_cli.default_model() == str(space_model.path)
    assert main(["caption", str(synth_clip[0]), "--json", "--max-new-tokens", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == str(space_model.path)
    monkeypatch.setenv("MACM_MODEL", "some/hub-id")
    assert caption_cli.default_model() == "some/hub-id"


def test_the_default_instruction_is_the_one_checkpoints_are_trained_with():
    from macm.processing.caption import DEFAULT_QUESTION
    from macm.trainer.data import CAPTION_QUESTION

    assert DEFAULT_QUESTION == CAPTION_QUESTION


def test_macm_demo_serves_the_page_and_prints_its_url(space_model, tmp_path):
    env = {**os.environ, "MACM_SPACE_TMP": str(tmp_path)}
    command = [sys.executable, "-m", "macm.cli", "demo", "--port", "0", "--model", str(space_model.path)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline, url, output = time.monotonic() + 240, None, []
        while url is None and time.monotonic() < deadline and server.poll() is None:
            line = server.stdout.readline()
            output.append(line)
            match = re.search(r"M-ACM demo running at (http://127\.0\.0\.1:\d+/) \(model: (.+)\)", line)
            url = match and match.group(1)
        assert url, "".join(output[-20:])
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "M-ACM" in page
        assert str(space_model.path) in match.group(2) or "synthmotion-tiny" in match.group(2)
    finally:
        server.terminate()
        server.wait(timeout=30)
