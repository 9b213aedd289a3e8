"""Helpers of the Hub tests (a module of its own: `conftest` names collide across test folders)."""

from __future__ import annotations

from pathlib import Path

import macm.cli


def run_cli(monkeypatch, *argv) -> int:
    """`macm <argv>` with only the Hub commands registered; returns the exit status."""
    monkeypatch.setattr(macm.cli, "COMMAND_MODULES", ("macm.hub_cards.cli", "macm.evaluation.cli"))
    return macm.cli.main([str(a) for a in argv])


def relative_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file()}


class FakeHub:
    """Records the `HfApi` calls of a push and answers `list_repo_files` with what `upload_folder` received,
    changed by `drop` (files the Hub "lost") and `extra` (files the Hub "has" beside them)."""

    def __init__(self, monkeypatch, drop: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
        import huggingface_hub
        from huggingface_hub import CommitInfo

        self.calls: list[tuple[str, dict]] = []
        self.uploaded: dict[str, bytes] = {}
        hub = self

        def record(name, result=None):
            def method(api, *args, **kwargs):
                hub.calls.append((name, {"args": args, **kwargs}))
                return result

            return method

        def upload_folder(api, **kwargs):
            hub.calls.append(("upload_folder", kwargs))
            folder = Path(kwargs["folder_path"])
            hub.uploaded = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
            return CommitInfo(
                commit_url=f"https://huggingface.co/{kwargs['repo_id']}/commit/{'a' * 40}",
                commit_message=kwargs.get("commit_message") or "",
                commit_description="",
                oid="a" * 40,
            )

        def list_repo_files(api, repo_id, **kwargs):
            hub.calls.append(("list_repo_files", {"repo_id": repo_id, **kwargs}))
            return sorted((set(hub.uploaded) - set(drop)) | set(extra) | {".gitattributes"})

        for name in ("create_repo", "create_branch", "create_tag", "add_space_variable"):
            monkeypatch.setattr(huggingface_hub.HfApi, name, record(name))
        monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
        monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", list_repo_files)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def call(self, name: str) -> dict:
        return next(kwargs for called, kwargs in self.calls if called == name)


def write_tiny_bench(root: Path) -> tuple[Path, Path]:
    """An HMI-Bench folder of two clips (captions and one true/false question) and predictions for it."""
    import json

    bench = Path(root) / "HMI-Bench"
    (bench / "videos").mkdir(parents=True)
    captions = [
        {"video": "videos/0001.mp4", "caption": "A man raises his left arm above his head and waves slowly."},
        {"video": "videos/0002.mp4", "caption": "A woman squats, picks up a box with both hands and stands up."},
    ]
    (bench / "HMI-Bench.json").write_text(json.dumps(captions))
    qa = {"videos/0001.mp4": [{"question": "Does he raise his right arm?", "answer": "No", "type": "true/false"}]}
    (bench / "HMI-Bench-QA.json").write_text(json.dumps(qa))
    predictions = Path(root) / "predictions.jsonl"
    rows = [
        {"video": "videos/0001.mp4", "caption": "A man raises his left arm and waves.", "answers": ["No."]},
        {"video": "videos/0002.mp4", "caption": "A woman bends down and lifts a box."},
    ]
    predictions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return bench, predictions
