"""`benchmarks/msd_overhead.py`: what each reported ratio divides, and a smoke run of the script on a tiny model."""

from __future__ import annotations

import pytest
from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def benchmark():
    return load_benchmark("msd_overhead")


def test_ratios_divide_the_right_runs(benchmark, monkeypatch):
    """A made-up cost model: a step costs 0.1 + 0.9 per row, MSD steps 2B rows and adds 5 %, prefill 3 s."""
    calls = []

    def fake_generate(model, inputs, msd, new_tokens):
        rows = inputs["input_ids"].shape[0] * (2 if msd else 1)
        calls.append((inputs["input_ids"].shape[0], msd))
        return 3.0 + new_tokens * (0.1 + 0.9 * rows) * (1.05 if msd else 1.0)

    monkeypatch.setattr(benchmark, "timed_generate", fake_generate)
    result = benchmark.measure(benchmark.build_model("tiny"), batch_size=2, new_tokens=5, repeats=1)
    assert {(2, False), (2, True), (4, False)} == set(calls)  # B rows plain and MSD, 2B rows plain
    assert result["plain_ms_per_token"] == pytest.approx(1900.0)
    assert result["plain_2x_rows_ms_per_token"] == pytest.approx(3700.0)
    assert result["msd_ms_per_token"] == pytest.approx(3885.0)
    assert result["paired_floor_ratio"] == pytest.approx(3700 / 1900, abs=1e-3)
    assert result["msd_over_floor"] == pytest.approx(1.05, abs=1e-3)
    assert result["ratio"] == pytest.approx(3885 / 1900, abs=1e-3)


def test_bad_arguments_are_refused(benchmark, capsys):
    with pytest.raises(SystemExit):
        benchmark.main(["--new-tokens", "1"])
    assert "need --new-tokens >= 2" in capsys.readouterr().err


def test_tiny_run_reports_every_ratio(benchmark):
    result = benchmark.main(["--size", "tiny", "--new-tokens", "3", "--repeats", "1", "--batch-sizes", "1"])
    assert result["size"] == "tiny" and result["params"] < 10_000_000
    keys = {"ratio", "paired_floor_ratio", "msd_over_floor", "plain_2x_rows_ms_per_token"}
    assert keys <= set(result["batch_1"])
