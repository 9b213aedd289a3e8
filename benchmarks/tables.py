"""Markdown tables from the JSON objects the benchmarks wrote into one folder (`make benchmarks`).

    python benchmarks/tables.py runs/benchmarks

Reads `msd_overhead.json`, `space_load.json` and `motion_throughput.json` (each one benchmark's output, whichever
are there) and writes `<name>.md` beside each; `python -m macm.hub_cards.benchmark_tables` then puts them between
the README's `<!-- table:NAME -->` markers, so the figures people read are the ones the benchmarks measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def msd_overhead_table(result: dict) -> str:
    batches = sorted(int(key.removeprefix("batch_")) for key in result if key.startswith("batch_"))
    rows = []
    for batch in batches:
        b = result[f"batch_{batch}"]
        rows.append(
            [
                batch,
                b["plain_ms_per_token"],
                b["msd_ms_per_token"],
                f"{b['ratio']:.2f}x",
                f"{b['paired_floor_ratio']:.2f}x",
                f"{b['msd_over_floor']:.2f}x",
            ]
        )
    header = ["batch", "plain ms/token", "MSD ms/token", "MSD / plain", "paired floor (2B / B rows)", "MSD / floor"]
    note = (
        f"{result['params'] / 1e6:.0f}M-parameter M-ACM (random weights), {result['new_tokens']} new tokens, "
        f"{result['frames']} frames, {result['threads']} torch thread(s), torch {result['torch']}."
    )
    return _table(header, rows) + "\n\n" + note


def space_load_table(result: dict) -> str:
    rows = []
    for index, round_ in enumerate(result["rounds"], start=1):
        latency = round_["latency_s"]
        rows.append(
            [
                index,
                result["requests_per_round"],
                round_["completed"],
                round_["refused_queue_full"],
                round_["failed"],
                latency["p50"],
                latency["p95"],
                round_["completed_per_minute"],
                round_["rss_peak_mib"],
            ]
        )
    header = ["round", "requests", "completed", "refused (queue full)", "failed", "p50 s", "p95 s", "per minute",
              "peak RSS MiB"]  # fmt: skip
    settings, rss = result["settings"], result["rss_mib"]
    note = (
        f"`macm demo` with {settings['model']}, queue {settings['queue_size']}, concurrency {settings['concurrency']}, "
        f"{settings['keyframes']} keyframes, {settings['max_new_tokens']} new tokens, {settings['cpus']} CPUs. "
        f"RSS {rss['baseline_after_warmup']} MiB after warm-up, {rss['after_last_round']} MiB after the last round; "
        f"server alive after: {result['server_alive_after']}, follow-up request {result['follow_up_request']}."
    )
    return _table(header, rows) + "\n\n" + note


def motion_throughput_table(result: dict) -> str:
    video, settings = result["video"], result["settings"]
    # timed on their own, beside the path the total adds up
    separate = {"overlay_with_cached_pose", "decode_only"}
    stages = result["seconds"]
    rows = [[stage, seconds] for stage, seconds in stages.items() if stage not in separate]
    rows.append(["**total (skeleton path)**", result["skeleton_path_total_s"]])
    rows += [[f"{stage} (separately)", seconds] for stage, seconds in stages.items() if stage in separate]
    note = (
        f"A {video['duration_s']} s {video['width']}x{video['height']} clip, {settings['backend']} on "
        f"{settings['candidate_frames']} candidate frames ({result['pose_ms_per_candidate_frame']} ms each), "
        f"{settings['num_keyframes']} keyframes: {result['realtime_factor']}x real time; peak RSS "
        f"{result['peak_rss_mib']} MiB."
    )
    return _table(["stage", "seconds"], rows) + "\n\n" + note


TABLES: dict[str, Callable[[dict], str]] = {
    "msd_overhead": msd_overhead_table,
    "space_load": space_load_table,
    "motion_throughput": motion_throughput_table,
}


def write_tables(folder: Path) -> list[Path]:
    """Write `<name>.md` for every `<name>.json` of `TABLES` in `folder`; returns the files written."""
    written = []
    for name, render in TABLES.items():
        source = folder / f"{name}.json"
        if source.is_file():
            target = folder / f"{name}.md"
            target.write_text(render(json.loads(source.read_text(encoding="utf-8"))) + "\n", encoding="utf-8")
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder the benchmarks wrote their JSON into")
    args = parser.parse_args(argv)
    written = write_tables(args.folder)
    if not written:
        print(f"tables: error: {args.folder} holds none of {[f'{n}.json' for n in TABLES]}", file=sys.stderr)
        return 2
    print("\n".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
