"""Per-token cost of MSD decoding against plain decoding on the same ~100M-parameter M-ACM (random weights).

    python benchmarks/msd_overhead.py [--new-tokens 128] [--repeats 3] [--batch-sizes 1 4] [--size tiny]

Plain and MSD runs are interleaved in one process and the best of `--repeats` is kept. Per-token time excludes the
prefill: `(t(new_tokens) - t(1 token)) / (new_tokens - 1)`. Prints one JSON object; per batch size B:

- `ratio`: MSD's per-token time over plain decoding of the same B rows;
- `paired_floor_ratio`: plain decoding of 2B rows over plain decoding of B rows. MSD decodes both pathways as one
  batch of 2B rows, so this is the cost of the paired forward itself, set by the hardware (a CPU's batch-2 step
  costs nearly twice a batch-1 step; a GPU's barely more), and the floor under `ratio`;
- `msd_over_floor`: MSD over plain decoding of 2B rows, what MSD adds beyond the paired forward.

`--size tiny` builds a ~4M-parameter model, to check the script runs, not to measure.
"""

import argparse
import json
import time

import torch

from macm.modeling_macm import MacmConfig, MacmForConditionalGeneration

NUM_FRAMES = 8


# (text hidden, layers, heads, kv heads, intermediate), (vision hidden, layers, heads, intermediate, image size)
SIZES = {
    "100m": ((640, 10, 10, 2, 1920), (384, 6, 6, 1536, 224)),
    "tiny": ((64, 2, 4, 2, 128), (32, 1, 2, 64, 32)),
}


def build_model(size: str = "100m") -> MacmForConditionalGeneration:
    (hidden, layers, heads, kv_heads, inner), (v_hidden, v_layers, v_heads, v_inner, image_size) = SIZES[size]
    config = MacmConfig(
        text_config={
            "model_type": "qwen2",
            "hidden_size": hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "intermediate_size": inner,
            "vocab_size": 32000,
            "max_position_embeddings": 4096,
        },
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": v_hidden,
            "num_hidden_layers": v_layers,
            "num_attention_heads": v_heads,
            "intermediate_size": v_inner,
            "image_size": image_size,
            "patch_size": 16,
        },
        video_token_id=31998,
        motion_token_id=31999,
    )
    torch.manual_seed(0)
    return MacmForConditionalGeneration(config).eval()


def build_inputs(model: MacmForConditionalGeneration, batch_size: int) -> dict:
    config = model.config
    side = config.vision_config.image_size // config.vision_config.patch_size
    video_tokens = NUM_FRAMES * ((side + 1) // 2) ** 2 + 1
    generator = torch.Generator().manual_seed(1)
    text = torch.randint(0, 31000, (batch_size, 24), generator=generator)
    placeholders = torch.full((batch_size, video_tokens), config.video_token_id)
    input_ids = torch.cat([text[:, :8], placeholders, text[:, 8:]], dim=1)
    frames = (batch_size, NUM_FRAMES, 3, config.vision_config.image_size, config.vision_config.image_size)
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "pixel_values_videos": torch.randn(frames, generator=generator),
        "pixel_values_motion": torch.randn(frames, generator=generator),
    }


def timed_generate(model, inputs, msd: bool, new_tokens: int) -> float:
    start = time.perf_counter()
    model.generate(**inputs, msd=msd, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    return time.perf_counter() - start


def measure(model, batch_size: int, new_tokens: int, repeats: int) -> dict:
    # name -> (inputs, msd); "plain_2x" decodes twice the rows, the batch MSD's paired forward runs on
    runs = {
        "plain": (build_inputs(model, batch_size), False),
        "msd": (build_inputs(model, batch_size), True),
        "plain_2x": (build_inputs(model, 2 * batch_size), False),
    }
    best = {(name, n): float("inf") for name in runs for n in (1, new_tokens)}
    for inputs, msd in runs.values():  # warm-up
        timed_generate(model, inputs, msd, 2)
    for _ in range(repeats):
        for name, (inputs, msd) in runs.items():  # interleaved, so drift in machine load hits all alike
            for n in (1, new_tokens):
                best[(name, n)] = min(best[(name, n)], timed_generate(model, inputs, msd, n))
    per_token = {name: 1000 * (best[(name, new_tokens)] - best[(name, 1)]) / (new_tokens - 1) for name in runs}
    return {
        "plain_ms_per_token": round(per_token["plain"], 3),
        "msd_ms_per_token": round(per_token["msd"], 3),
        "plain_2x_rows_ms_per_token": round(per_token["plain_2x"], 3),
        "ratio": round(per_token["msd"] / per_token["plain"], 3),
        "paired_floor_ratio": round(per_token["plain_2x"] / per_token["plain"], 3),
        "msd_over_floor": round(per_token["msd"] / per_token["plain_2x"], 3),
        "plain_prefill_s": round(best[("plain", 1)], 3),
        "msd_prefill_s": round(best[("msd", 1)], 3),
        "prompt_tokens": runs["plain"][0]["input_ids"].shape[1],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--size", choices=sorted(SIZES), default="100m", help="model size (tiny: a smoke run)")
    args = parser.parse_args(argv)
    if args.new_tokens < 2 or args.repeats < 1 or min(args.batch_sizes) < 1:
        parser.error(
            f"need --new-tokens >= 2, --repeats >= 1 and batch sizes >= 1; got {args.new_tokens}, {args.repeats}, "
            f"{args.batch_sizes}"
        )
    model = build_model(args.size)
    result = {
        "size": args.size,
        "params": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "new_tokens": args.new_tokens,
        "frames": NUM_FRAMES,
        "torch": torch.__version__,
    }
    for batch_size in args.batch_sizes:
        result[f"batch_{batch_size}"] = measure(model, batch_size, args.new_tokens, args.repeats)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
