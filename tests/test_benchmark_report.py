"""`make benchmarks`: each benchmark's JSON becomes a Markdown table (`benchmarks/tables.py`) that goes into the
README between its markers."""

from __future__ import annotations

import json

from benchmark_scripts import load_benchmark

from macm.hub_cards.benchmark_tables import insert_tables

SPACE_LOAD = {
    "requests_per_round": 4,
    "rounds": [
        {
            "completed": 3,
            "refused_queue_full": 1,
            "failed": 0,
            "latency_s": {"p50": 1.5, "p95": 2.5, "max": 2.5},
            "completed_per_minute": 60.0,
            "rss_peak_mib": 900.0,
        }
    ],
    "rss_mib": {"baseline_after_warmup": 800.0, "after_last_round": 850.0},
    "server_alive_after": True,
    "follow_up_request": "completed",
    "settings": {"model": "m", "queue_size": 2, "concurrency": "1", "keyframes": 16, "max_new_tokens": 8, "cpus": 2},
}


def test_tables_from_the_benchmarks_json(tmp_path):
    msd_overhead = load_benchmark("msd_overhead").main(
        ["--size", "tiny", "--new-tokens", "3", "--repeats", "1", "--batch-sizes", "1"]
    )
    (tmp_path / "msd_overhead.json").write_text(json.dumps(msd_overhead))
    (tmp_path / "space_load.json").write_text(json.dumps(SPACE_LOAD))
    tables = load_benchmark("tables")
    assert tables.main([str(tmp_path)]) == 0
    msd_table = (tmp_path / "msd_overhead.md").read_text()
    assert (
        msd_table.startswith("| batch | plain ms/token |") and f"{msd_overhead['batch_1']['ratio']:.2f}x" in msd_table
    )
    space_table = (tmp_path / "space_load.md").read_text()
    assert "| 1 | 4 | 3 | 1 | 0 | 1.5 | 2.5 | 60.0 | 900.0 |" in space_table
    readme = "intro\n<!-- table:msd-overhead -->\nold\n<!-- /table:msd-overhead -->\nend\n"
    assert msd_table.strip() in insert_tables(readme, {"msd-overhead": msd_table})


def test_an_empty_folder_is_an_error(tmp_path, capsys):
    assert load_benchmark("tables").main([str(tmp_path)]) == 2
    assert "holds none of" in capsys.readouterr().err
