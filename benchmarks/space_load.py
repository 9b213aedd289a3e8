"""Load on the demo Space: N concurrent caption requests through `gradio_client` against `macm demo` on 127.0.0.1.

```bash
python benchmarks/space_load.py                              # 20 requests, the app's queue (16) and concurrency (1)
python benchmarks/space_load.py --requests 6 --queue-size 2 --max-new-tokens 2
```

The server is a separate process (`python -m macm.cli demo --port P`), so its memory is measured alone (RSS of the
process and its children, sampled every 0.1 s). A warm-up burst (2 requests: the pose model loads, Gradio's worker
threads start) sets the baseline; then each round submits all requests at once. Each must either complete (status "Done") or be refused with Gradio's queue-full message; anything
else counts as failed. Afterwards the server must still answer a request, and its RSS is measured again.

The model is `--model`, else `$MACM_MODEL`, else the embedded `space/synthmotion-tiny/`, else a randomly initialised
M-ACM of the same kind (word-level vocabulary, 96 px; the timings are then the same, the captions nonsense).
The clip is a freshly generated SynthMotion clip unless `--clip` is given.

Prints ONE JSON object: per round the counts, latencies of completed requests, wall time and RSS after it; the RSS
baseline, peak and final (MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

STARTUP_SECONDS = 300
MIB = 1024 * 1024


def resolve_model(model: str | None, scratch: Path) -> tuple[str, str]:
    """`(path_or_id, description)` of the model the server gets."""
    from macm.processing.caption_cli import default_model
    from macm.processing.embedded import embedded_model

    model = model or default_model()
    if model:
        embedded = embedded_model()
        return model, "the embedded synthmotion-tiny" if embedded and Path(model) == embedded else model
    from macm.processing.synth import caption_vocabulary
    from macm.trainer.init_from_scratch import init_from_scratch

    folder = scratch / "random-macm"
    init_from_scratch(caption_vocabulary(), folder)
    return str(folder), "random-init (no checkpoint found)"


def synth_clip(scratch: Path) -> Path:
    from macm.processing.synth import SynthConfig, write_dataset

    rows = write_dataset(scratch / "synthmotion", 1, SynthConfig(seed=0), progress=False)
    row = next(iter(rows.values()))[0]
    return scratch / "synthmotion" / row["video"]


class Server:
    """`macm demo` in a child process: its URL (read from its output), its RSS, whether it is alive."""

    def __init__(self, model: str, env: dict[str, str]):
        command = [sys.executable, "-m", "macm.cli", "demo", "--port", "0", "--model", model]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **env}
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.log.append(line)
            if "M-ACM demo running at " in line:
                return line.split("running at ", 1)[1].split()[0]
        self.stop()
        raise RuntimeError("`macm demo` did not start:\n" + "".join(self.log[-30:]))

    def rss(self) -> int:
        process = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def checkpoint_settings(model: str) -> dict:
    """The page's settings a request sends, as the checkpoint gives them: keyframes and MSD."""
    from macm.modeling_macm import MacmConfig

    config = MacmConfig.from_pretrained(model)
    alpha = ", ".join(f"{a:g}" for a in config.msd_alpha)
    return {"keyframes": config.num_keyframes, "msd": (alpha, config.msd_beta, config.msd_theta, config.msd_synergy)}


def caption_request(url: str, clip: Path, keyframes: int, max_new_tokens: int, msd: tuple) -> dict:
    """One user: its own client, one caption request with the checkpoint's MSD settings (`msd`: alpha text, beta,
    theta, synergy). Returns `{"outcome", "seconds", "detail"}`."""
    from gradio_client import Client, handle_file

    start = time.perf_counter()
    try:
        client = Client(url, verbose=False)
        status = client.predict(
            handle_file(str(clip)), "", "blazepose", keyframes, True, *msd, max_new_tokens, api_name="/caption",
        )[0]  # fmt: skip
        outcome = "completed" if "Done" in status else "failed"
        detail = status.splitlines()[-1]
    except Exception as error:  # what the client raises is the outcome we measure
        outcome = "refused" if "queue is full" in str(error).lower() else "failed"
        detail = f"{type(error).__name__}: {error}"
    return {"outcome": outcome, "seconds": time.perf_counter() - start, "detail": detail}


def burst(server: Server, clip: Path, args: argparse.Namespace, count: int) -> dict:
    """`count` users at once; their outcomes, the wall time and the server's peak RSS meanwhile."""
    peak, sampling = server.rss(), threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampling.wait(0.1):
            peak = max(peak, server.rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(
            pool.map(
                lambda _: caption_request(server.url, clip, args.keyframes, args.max_new_tokens, args.msd),
                range(count),
            )
        )
    wall = time.perf_counter() - start
    sampling.set()
    sampler.join()
    return {"results": results, "wall": wall, "peak": peak}


def summarize(round_: dict, rss_after: int) -> dict:
    results = round_["results"]
    completed = sorted(r["seconds"] for r in results if r["outcome"] == "completed")

    def percentile(q: float) -> float | None:
        return round(completed[min(len(completed) - 1, int(q * len(completed)))], 2) if completed else None

    return {
        "completed": len(completed),
        "refused_queue_full": sum(r["outcome"] == "refused" for r in results),
        "failed": sum(r["outcome"] == "failed" for r in results),
        "failures": [r["detail"] for r in results if r["outcome"] == "failed"][:5],
        "latency_s": {"p50": percentile(0.5), "p95": percentile(0.95), "max": percentile(1.0)},
        "wall_s": round(round_["wall"], 2),
        "completed_per_minute": round(60 * len(completed) / round_["wall"], 2),
        "rss_peak_mib": round(round_["peak"] / MIB, 1),
        "rss_after_mib": round(rss_after / MIB, 1),
    }


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model, model_name = resolve_model(args.model, scratch)
        settings = checkpoint_settings(model)
        args.keyframes = args.keyframes or settings["keyframes"]
        args.msd = settings["msd"]
        clip = Path(args.clip) if args.clip else synth_clip(scratch)
        env = {
            "MACM_SPACE_TMP": str(scratch / "requests"),
            "MACM_SPACE_MAX_NEW_TOKENS": str(max(args.max_new_tokens, 1)),
        }
        if args.queue_size:
            env["MACM_SPACE_QUEUE_SIZE"] = str(args.queue_size)
        server = Server(model, env)
        try:
            rss_started = server.rss()
            # warm-up: the first requests load the pose model and start Gradio's worker threads
            warm = burst(server, clip, args, args.warmup)
            if any(r["outcome"] == "failed" for r in warm["results"]):
                raise RuntimeError(f"warm-up failed: {[r['detail'] for r in warm['results']]}")
            time.sleep(args.settle)
            baseline = server.rss()
            rounds = []
            for _ in range(args.rounds):
                round_ = burst(server, clip, args, args.requests)
                time.sleep(args.settle)
                rounds.append(summarize(round_, server.rss()))
            follow_up = caption_request(server.url, clip, args.keyframes, args.max_new_tokens, args.msd)
            alive = server.alive()
        finally:
            server.stop()
    return {
        "benchmark": "space_load",
        "requests_per_round": args.requests,
        "rounds": rounds,
        "rss_mib": {
            "server_started": round(rss_started / MIB, 1),
            "baseline_after_warmup": round(baseline / MIB, 1),
            "peak": max(r["rss_peak_mib"] for r in rounds),
            "after_last_round": rounds[-1]["rss_after_mib"],
            "after_minus_baseline": round(rounds[-1]["rss_after_mib"] - baseline / MIB, 1),
        },
        "server_alive_after": alive,
        "follow_up_request": follow_up["outcome"],
        "settings": {
            "queue_size": args.queue_size or "app default (MACM_SPACE_QUEUE_SIZE, 16)",
            "concurrency": os.environ.get("MACM_SPACE_CONCURRENCY", "1"),
            "warmup_requests": args.warmup,
            "keyframes": args.keyframes,
            "max_new_tokens": args.max_new_tokens,
            "model": model_name,
            "clip": clip.name if args.clip else "fresh SynthMotion clip (seed 0, 96x96, 16 frames)",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="concurrent caption requests per round (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="bursts of --requests, one after the other (default 2)")
    parser.add_argument("--warmup", type=int, default=2, help="concurrent requests before the baseline (default 2)")
    parser.add_argument("--queue-size", type=int, default=None, help="server queue size (default: the app's)")
    parser.add_argument(
        "--keyframes", type=int, default=None, help="keyframes per clip (default: the checkpoint's num_keyframes)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=64, help="generation budget (default 64, the page's)")
    parser.add_argument("--model", default=None, help="checkpoint (default: $MACM_MODEL, else the embedded one)")
    parser.add_argument("--clip", default=None, help="video to send (default: a fresh SynthMotion clip)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait before the RSS after the burst")
    args = parser.parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
