"""Per-token cost of MSD decoding against plain decoding on the same ~100M-parameter M-ACM (random weights).

    python benchmarks/msd_overhead.py [--new-tokens 128] [--repeats 3] [--batch-sizes 1 4]

Plain and MSD runs are interleaved in one process and the best of `--repeats` is kept. Per-token time excludes the
prefill: `(t(new_tokens) - t(1 token)) / (new_tokens - 1)`. Prints one JSON object.
"""

import argparse
import json
import time

import torch

from macm.modeling_macm import MacmConfig, MacmForConditionalGeneration

NUM_FRAMES = 8


def build_model() -> MacmForConditionalGeneration:
    config = MacmConfig(
        text_config={
            "model_type": "qwen2",
            "hidden_size": 640,
            "num_hidden_layers": 10,
            "num_attention_heads": 10,
            "num_key_value_heads": 2,
            "intermediate_size": 1920,
            "vocab_size": 32000,
            "max_position_embeddings": 4096,
        },
        vision_config={
            "model_type": "siglip_vision_model",
            "hidden_size": 384,
            "num_hidden_layers": 6,
            "num_attention_heads": 6,
            "intermediate_size": 1536,
            "image_size": 224,
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
    inputs = build_inputs(model, batch_size)
    best = {(msd, n): float("inf") for msd in (False, True) for n in (1, new_tokens)}
    timed_generate(model, inputs, True, 2)  # warm-up
    for _ in range(repeats):
        for msd in (False, True):  # interleaved, so drift in machine load hits both alike
            for n in (1, new_tokens):
                best[(msd, n)] = min(best[(msd, n)], timed_generate(model, inputs, msd, n))
    per_token = {msd: 1000 * (best[(msd, new_tokens)] - best[(msd, 1)]) / (new_tokens - 1) for msd in (False, True)}
    return {
        "plain_ms_per_token": round(per_token[False], 3),
        "msd_ms_per_token": round(per_token[True], 3),
        "ratio": round(per_token[True] / per_token[False], 3),
        "plain_prefill_s": round(best[(False, 1)], 3),
        "msd_prefill_s": round(best[(True, 1)], 3),
        "prompt_tokens": inputs["input_ids"].shape[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    model = build_model()
    result = {
        "params": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "new_tokens": args.new_tokens,
        "frames": NUM_FRAMES,
        "torch": torch.__version__,
    }
    for batch_size in args.batch_sizes:
        result[f"batch_{batch_size}"] = measure(model, batch_size, args.new_tokens, args.repeats)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
