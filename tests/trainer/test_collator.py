import torch
from tiny_models import make_tiny_hmi_dataset, random_clip

from macm.trainer.collator import MacmCollator
from macm.trainer.data import build_sft_samples, load_hmi_split


def test_collator_masks_exactly_prompt_padding_and_placeholders(tmp_path, tiny_processor):
    make_tiny_hmi_dataset(tmp_path, num_clips=2, num_frames=2)
    rows, root = load_hmi_split(str(tmp_path))
    samples = [
        {**build_sft_samples(rows, qa_ratio=0.0)[0], "answer": "ab"},
        {**build_sft_samples(rows, qa_ratio=0.0)[1], "answer": "abcd"},
    ]
    batch = MacmCollator(tiny_processor, root, num_frames=2)(samples)
    tokenizer = tiny_processor.tokenizer
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    prompt = tiny_processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": samples[0]["question"]}]}],
        add_generation_prompt=True,
    )
    prompt_len = len(tiny_processor(text=prompt, videos=[random_clip(0, num_frames=2)])["input_ids"][0])
    # byte-level tokenizer: "ab" is two tokens, "abcd" four
    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    assert ids.shape == (2, prompt_len + 5)
    expected_answer = tokenizer("abcd", add_special_tokens=False)["input_ids"] + [end]
    assert labels[1, prompt_len:].tolist() == expected_answer
    assert (labels[:, :prompt_len] == -100).all()  # the whole prompt, placeholders included
    assert labels[0, prompt_len : prompt_len + 3].tolist() == ids[0, prompt_len : prompt_len + 3].tolist()
    assert (labels[0, prompt_len + 3 :] == -100).all() and (mask[0, prompt_len + 3 :] == 0).all()  # padding
    assert mask[1].all()
    placeholder_positions = torch.isin(ids, torch.tensor([tiny_processor.video_token_id]))
    assert placeholder_positions.sum() == 2 * tiny_processor.num_video_tokens(2)
    assert batch["pixel_values_videos"].shape == batch["pixel_values_motion"].shape == (2, 2, 3, 32, 32)


def test_short_clips_are_padded_to_the_frame_count(tmp_path, tiny_processor):
    make_tiny_hmi_dataset(tmp_path, num_clips=1, num_frames=2)
    rows, root = load_hmi_split(str(tmp_path))
    batch = MacmCollator(tiny_processor, root, num_frames=3)(build_sft_samples(rows, qa_ratio=1.0))
    assert batch["pixel_values_videos"].shape[1] == 3
    torch.testing.assert_close(batch["pixel_values_videos"][:, 2], batch["pixel_values_videos"][:, 1])


def test_sample_mix_takes_all_captions_and_a_share_of_qa(tmp_path):
    make_tiny_hmi_dataset(tmp_path, num_clips=4)
    rows, _ = load_hmi_split(str(tmp_path))
    samples = build_sft_samples(rows, qa_ratio=0.5, seed=1)
    kinds = [s["kind"] for s in samples]
    assert kinds.count("caption") == 4 and kinds.count("qa") == 2
    assert samples == build_sft_samples(rows, qa_ratio=0.5, seed=1)
    assert all(s["keyframe_files"] for s in samples)
