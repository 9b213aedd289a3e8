"""The `macm` command line: a light `--help`, `--version`, and errors that end in one line without a traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import macm
import macm.cli

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "space" / "synthmotion-tiny"
CLIP = ROOT / "space" / "examples" / "synth-0000-0000003.mp4"


def _macm(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "macm.cli", *map(str, argv)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_the_parser_imports_no_heavy_dependency():
    code = "import sys, macm.cli; macm.cli.build_parser(); print(sorted({'torch', 'transformers', 'cv2', 'av'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        macm.cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"macm {macm.__version__}"


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["nope"], 2, "invalid choice: 'nope'"),
        (["caption"], 2, "the following arguments are required: video"),
        (["motion", "missing.mp4", "--out", "o"], 2, "missing.mp4: no such file"),
        (["caption", "text.mp4", "--model", "no/such-model"], 2, "text.mp4: not a readable video"),
        (
            ["push", "model", "no-folder", "--repo-id", "a/b", "--dry-run", "o"],
            2,
            "model folder no-folder does not exist",
        ),
        (["push", "model", EMBEDDED, "--repo-id", "not/a/valid/id", "--dry-run", "o"], 2, "--repo-id: Repo id must"),
        # the pose backend is checked before the model would load (this id would need the network)
        (
            ["caption", CLIP, "--backend", "dwpose", "--model", "no/such-model"],
            3,
            "'dwpose' needs det_onnx, pose_onnx",
        ),
        (["demo", "--no-serve", "--video", "text.mp4", "--out", "d"], 2, "text.mp4: not a readable video"),
        (["synth", "--out", "s", "--num", "2", "--size", "33"], 2, "`size` must be an even number of pixels"),
    ],
)
def test_errors_are_one_line_without_traceback(tmp_path, argv, code, message):
    (tmp_path / "text.mp4").write_text("not a video\n")
    result = _macm(*argv, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("macm: error: ") and message in lines[0], result.stderr


def test_an_unexpected_failure_is_one_line(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(func=broken, verbose=False)

    monkeypatch.setattr(macm.cli, "build_parser", Parser)
    assert macm.cli.main([]) == 3
    assert capsys.readouterr().err.strip() == "macm: error: RuntimeError: boom (run with -v for the traceback)"
