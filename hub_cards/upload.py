"""Publish an upload plan: `create_repo`, one `upload_folder` commit that makes the revision hold exactly the plan's
files, then a check of the commit's file list on the Hub."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import HfApi

from .plan import UploadPlan

__all__ = ["PushResult", "PushVerificationError", "push_plan"]

logger = logging.getLogger(__name__)

HUB_MANAGED = {".gitattributes"}  # created and kept by the Hub itself


class PushVerificationError(RuntimeError):
    """The files on the Hub after the commit differ from the files that were uploaded."""


@dataclass
class PushResult:
    """What a push did.

    Args:
        repo_id (`str`): the repository.
        repo_type (`str`): `"model"`, `"dataset"` or `"space"`.
        commit (`str`): the commit id (pin it as `revision=`).
        commit_url (`str`): the commit's page.
        files (`list[str]`): the files of the revision after the commit (as listed by the Hub).
    """

    repo_id: str
    repo_type: str
    commit: str
    commit_url: str
    files: list[str]


def push_plan(
    plan: UploadPlan,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    tag: str | None = None,
    token: str | None = None,
) -> PushResult:
    """Upload `plan` to `repo_id` and check the result.

    The repository is created when missing (`private` applies then). With `revision`, the commit goes to that
    branch (created from `main` when missing). Files of the revision that are not in the plan are deleted in the
    same commit, so the revision holds exactly the plan (the Hub's `.gitattributes` aside). Afterwards the commit's
    file list is read back from the Hub; any difference raises `PushVerificationError`. `tag` tags the commit.
    """
    api = HfApi(token=token)
    repo_type = plan.kind
    api.create_repo(
        repo_id,
        repo_type=repo_type,
        private=private,
        exist_ok=True,
        space_sdk="gradio" if repo_type == "space" else None,
    )
    if revision and revision != "main":
        api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
    for key, value in plan.space_variables.items():  # before the commit, so the first build sees them
        api.add_space_variable(repo_id, key, value)
    message = commit_message or f"Upload {plan.kind} with `macm push` ({len(plan.files)} files)"
    with tempfile.TemporaryDirectory(prefix="macm-push-") as staging:
        folder = plan.write(Path(staging) / "upload", link=True)
        commit = api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            repo_type=repo_type,
            revision=revision,
            commit_message=message,
            delete_patterns="*",
        )
    remote = set(api.list_repo_files(repo_id, repo_type=repo_type, revision=commit.oid)) - HUB_MANAGED
    expected = set(plan.files)
    if remote != expected:
        missing, unexpected = sorted(expected - remote), sorted(remote - expected)
        raise PushVerificationError(
            f"{repo_type} {repo_id} at commit {commit.oid} does not hold the uploaded files: "
            f"missing on the Hub {missing or 'none'}; unexpected on the Hub {unexpected or 'none'}"
        )
    if tag:
        api.create_tag(repo_id, tag=tag, revision=commit.oid, repo_type=repo_type)
    logger.info("pushed %d files to %s %s, commit %s", len(expected), repo_type, repo_id, commit.oid)
    return PushResult(repo_id, repo_type, commit.oid, commit.commit_url, sorted(remote))
