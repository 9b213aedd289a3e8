"""What an HMI-format dataset folder holds (splits, rows, QA pairs, sources) and what its builder's report says, for
the dataset card; and how a card's `configs` resolve against the folder's files."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

__all__ = ["config_patterns", "matching_files", "read_builder_report", "read_dataset_facts", "size_category"]

SPLIT_ORDER = ("train", "validation", "test")
_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
)


def size_category(num_rows: int) -> str:
    """The Hub's `size_categories` value for `num_rows` rows."""
    return next((name for bound, name in _SIZE_CATEGORIES if num_rows < bound), "n>10M")


def _read_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not a JSON line ({error})") from None
    return rows


def _split_key(split: str) -> tuple[int, str]:
    return (SPLIT_ORDER.index(split) if split in SPLIT_ORDER else len(SPLIT_ORDER), split)


def read_dataset_facts(folder: str | Path) -> dict:
    """Splits (`<split>/metadata.jsonl`, or a top-level `metadata.jsonl` as `train`) and their statistics.

    Returns:
        `dict` with `splits` (`[{"name", "path", "rows", "qa"}]`, in train/validation/test order), `num_rows`,
        `num_qa`, `fields` (the row keys), `qa_types` and `sources` (`Counter`s over all rows) and `num_videos`
        (distinct files referenced by `file_name`).
    """
    folder = Path(folder)
    found = {p.parent.name: p for p in folder.glob("*/metadata.jsonl")}
    if (folder / "metadata.jsonl").is_file():
        found.setdefault("train", folder / "metadata.jsonl")
    if not found:
        raise FileNotFoundError(f"{folder} has no <split>/metadata.jsonl: not an HMI-format dataset folder")
    splits, fields, qa_types, sources, videos = [], {}, Counter(), Counter(), set()
    for name in sorted(found, key=_split_key):
        rows = _read_rows(found[name])
        for row in rows:
            fields.update(dict.fromkeys(row))
            qa_types.update(qa.get("type", "?") for qa in row.get("qa") or [])
            sources[row.get("source", "unspecified")] += 1
            if row.get("file_name"):
                videos.add(row["file_name"])
        splits.append(
            {
                "name": name,
                "path": found[name].relative_to(folder).as_posix(),
                "rows": len(rows),
                "qa": sum(len(row.get("qa") or []) for row in rows),
            }
        )
    return {
        "splits": splits,
        "num_rows": sum(s["rows"] for s in splits),
        "num_qa": sum(s["qa"] for s in splits),
        "fields": list(fields),
        "qa_types": qa_types,
        "sources": sources,
        "num_videos": len(videos),
    }


def _criteria_from_run_settings(report_path: Path) -> list[str]:
    # the HMI builder keeps its thresholds beside the report, in curation/run.json (`segments`, `filters`)
    settings_path = report_path.with_name("run.json")
    if not settings_path.is_file():
        return []
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    criteria = [f"segments: {k} = {v}" for k, v in (settings.get("segments") or {}).items()]
    return criteria + [f"filter: {k} = {v}" for k, v in (settings.get("filters") or {}).items()]


def read_builder_report(path: str | Path | None) -> dict | None:
    """A dataset builder's report, e.g. the HMI builder's `curation/report.json`.

    Read keys (all optional): `criteria` (`{name: value}` or a list of text; else the thresholds of a `run.json`
    next to the report), `counts` (`{stage: number}`), `rejected_by_filter` (`{filter: clips}`) and `sources`
    (`[{"name", "license", "url"}]`). `None` without a path.
    """
    if path is None:
        return None
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"builder report {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"builder report {path} is not JSON: {error}") from None
    if not isinstance(report, dict):
        raise ValueError(f"builder report {path}: expected a JSON object, got {type(report).__name__}")
    criteria = report.get("criteria") or _criteria_from_run_settings(path)
    if isinstance(criteria, dict):
        criteria = [f"{name}: {value}" for name, value in criteria.items()]
    tables = {}
    for key in ("counts", "rejected_by_filter"):
        table = report.get(key) or {}
        if not isinstance(table, dict):
            raise ValueError(f"builder report {path}: `{key}` must map a name to a number of clips")
        tables[key] = {name.replace("_", " "): value for name, value in table.items()}
    sources = report.get("sources") or []
    for number, source in enumerate(sources):
        if not isinstance(source, dict) or not source.get("name"):
            raise ValueError(f"builder report {path}: sources[{number}] needs at least a `name`")
    return {"criteria": [str(c) for c in criteria], **tables, "sources": sources}


def config_patterns(configs) -> list[tuple[str, str, str]]:
    """`(config_name, split, pattern)` for every data file pattern of a card's YAML `configs`.

    Accepts the forms the Hub accepts: `data_files` as a string, a list of strings, a list of `{split, path}`
    (with `path` a string or a list) or a `{split: path}` mapping.
    """
    entries = []
    for config in configs or []:
        name = config.get("config_name", "default")
        data_files = config.get("data_files")
        if isinstance(data_files, str | list) and all(isinstance(d, str) for d in _as_list(data_files)):
            entries += [(name, "train", pattern) for pattern in _as_list(data_files)]
        elif isinstance(data_files, dict):
            entries += [(name, split, p) for split, paths in data_files.items() for p in _as_list(paths)]
        elif isinstance(data_files, list):
            for item in data_files:
                if not isinstance(item, dict) or "path" not in item:
                    raise ValueError(f"config {name!r}: data_files entry {item!r} has no `path`")
                entries += [(name, item.get("split", "train"), p) for p in _as_list(item["path"])]
        else:
            raise ValueError(f"config {name!r} has no data_files")
    return entries


def _as_list(value) -> list:
    return list(value) if isinstance(value, list) else [value]


def matching_files(pattern: str, files: Iterable[str]) -> list[str]:
    """Files (relative POSIX paths) a `data_files` pattern selects."""
    return [f for f in files if f == pattern or fnmatch.fnmatchcase(f, pattern)]
