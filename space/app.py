"""M-ACM on a Hugging Face Space: upload a clip (or pick an example) and get the body drawn over it, its keyframes
beside their motion frames, captions with and without Motion Synergetic Decoding, and what MSD did per token.

Locally: `macm demo` (or `python space/app.py`). The model is `MACM_MODEL` when set, else the embedded SynthMotion
checkpoint (see `checkpoint.py`); limits come from `MACM_SPACE_*` environment variables (see `validation.Limits`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import gradio as gr

from macm.processing.caption import DEFAULT_QUESTION

if __package__:
    from . import checkpoint, inference
    from .validation import Limits, MsdSettings
else:  # run as the Space's app file
    import checkpoint
    import inference
    from validation import Limits, MsdSettings

__all__ = ["BACKENDS", "LIMITS", "OUTPUTS", "build_demo", "demo", "launch_kwargs", "run"]

logger = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
BACKENDS: tuple[str, ...] = ("blazepose", "vitpose", "dwpose")
LIMITS = Limits.from_env()
OUTPUTS = ("status", "overlay", "gallery", "caption_msd", "caption_plain", "synergy", "timeline", "json_path")
CSS = """
#macm-model { border-left: 4px solid #e4572e; padding-left: 0.8em; }
#macm-status { min-height: 2.5em; }
#macm-overlay video { width: 100%; max-height: 420px; image-rendering: pixelated; }
/* captions flow as text: the spans MSD changed are highlighted inside the sentence, not laid out as boxes */
#macm-captions .textfield { display: block; line-height: 1.7; }
#macm-captions .token-container, #macm-captions .token { display: inline; padding: 0; margin: 0; }
#macm-captions .text { white-space: pre-wrap; word-break: normal; overflow-wrap: anywhere; }
#macm-gallery .grid-wrap.fixed-height { max-height: none !important; min-height: 0 !important; height: auto !important; }
#macm-gallery .thumbnail-item { aspect-ratio: 2 / 1.25; }
footer { visibility: hidden; }
"""


def run(
    video: str | None,
    prompt: str,
    backend: str,
    num_keyframes: float,
    msd_enabled: bool,
    msd_alpha: str,
    msd_beta: float,
    msd_theta: float,
    msd_synergy: str,
    max_new_tokens: float,
    progress=gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress tracker
):
    """The Caption button: `inference.analyze` with the page's values, streamed to the page.

    Warnings become `gr.Warning` toasts; a request that cannot run ends with its reason in the status line (and a
    toast), not an exception, so API clients get it as the first output; only a bug raises `gr.Error`.
    """
    options = inference.Options(
        prompt=prompt or "",
        backend=backend,
        num_keyframes=int(num_keyframes),
        max_new_tokens=int(max_new_tokens),
        msd=MsdSettings(
            enabled=bool(msd_enabled),
            alpha=msd_alpha or "",
            beta=float(msd_beta) if msd_beta is not None else float("nan"),
            theta=float(msd_theta) if msd_theta is not None else float("nan"),
            synergy=msd_synergy,
        ),
    )
    workdir = inference.new_workdir()
    # clear the previous answer first, so a failing request never leaves the last one's results on show
    shown = dict(zip(OUTPUTS, ("Checking the video...", None, [], [], [], None, None, None), strict=True))
    yield tuple(shown.values())
    try:
        for update in inference.analyze(
            video, options, LIMITS, workdir, BACKENDS, progress=lambda f, desc: progress(f, desc=desc)
        ):
            for issue in update.issues:
                gr.Warning(issue.message)
            changed = {name: getattr(update, name) for name in OUTPUTS if getattr(update, name) is not None}
            shown.update(changed)
            # while streaming only what changed is sent; the last yield is what an API client gets: all of it
            yield tuple(shown.values()) if update.done else tuple(changed.get(name, gr.skip()) for name in OUTPUTS)
    except inference.RequestError as exc:
        # something the user can fix: said in a toast and in the status line; the page stays as it was cleared
        gr.Warning(str(exc), title="Cannot caption this video")
        shown["status"] = f"**Cannot caption this video.** {exc}"
        yield tuple(shown.values())
    except Exception as exc:  # a bug must not look like a hang; the server keeps serving
        logger.exception("request failed")
        raise gr.Error(f"Something went wrong: {type(exc).__name__}: {exc}", print_exception=False) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # Gradio has copied the outputs into its own cache
        inference.release_memory()


def _examples() -> tuple[list[list[str]], list[str]]:
    """The bundled clips and their labels (`examples/examples.json`, written by `make_examples.py`)."""
    index = EXAMPLES_DIR / "examples.json"
    entries = json.loads(index.read_text()) if index.is_file() else []
    entries = [entry for entry in entries if (EXAMPLES_DIR / entry["file"]).is_file()]
    return [[str(EXAMPLES_DIR / entry["file"])] for entry in entries], [entry["label"] for entry in entries]


def build_demo() -> gr.Blocks:
    loaded = checkpoint.current_model()
    msd = loaded.msd_defaults()
    examples, labels = _examples()
    with gr.Blocks(title="M-ACM: human motion captioning", delete_cache=(1800, 3600)) as blocks:
        gr.Markdown(
            "# M-ACM: fine-grained human motion captioning\n"
            "A video LLM that reads a clip twice: its keyframes (the *visual pathway*) and the body recovered from "
            "them, as motion masks or joints (the *motion pathway*), combined token by token by **Motion Synergetic "
            f"Decoding** (MSD). Upload a short clip of one person (up to {LIMITS.max_seconds:g} s, "
            f"{LIMITS.max_file_mb:g} MB, {LIMITS.max_side} px) or pick an example."
        )
        gr.Markdown(loaded.describe(), elem_id="macm-model")
        with gr.Row():
            with gr.Column(scale=2, min_width=320):
                video = gr.Video(label="Video", sources=["upload"], elem_id="macm-video", height=300)
                prompt = gr.Textbox(
                    value=DEFAULT_QUESTION,
                    label="Prompt: a caption instruction or a question",
                    lines=2,
                    max_length=LIMITS.max_prompt_chars,
                    elem_id="macm-prompt",
                )
                button = gr.Button("Caption", variant="primary", elem_id="macm-run")
                with gr.Accordion("Options", open=False):
                    backend = gr.Dropdown(list(BACKENDS), value="blazepose", label="Pose backend")
                    num_keyframes = gr.Slider(
                        1,
                        LIMITS.max_keyframes,
                        value=min(loaded.num_keyframes, LIMITS.max_keyframes),
                        step=1,
                        label="Keyframes",
                    )
                    max_new_tokens = gr.Slider(
                        1, LIMITS.max_new_tokens, value=min(64, LIMITS.max_new_tokens), step=1, label="Max new tokens"
                    )
                    msd_enabled = gr.Checkbox(value=True, label="Motion Synergetic Decoding (MSD)")
                    msd_alpha = gr.Textbox(value=msd["alpha"], label="MSD alpha (a1..a5 and the exponent a6)")
                    with gr.Row():
                        msd_beta = gr.Number(value=msd["beta"], label="MSD beta", minimum=0)
                        msd_theta = gr.Number(value=msd["theta"], label="MSD theta", minimum=0)
                    msd_synergy = gr.Dropdown(
                        ["reconstructed-v1", "contrastive"], value=msd["synergy"], label="Synergy"
                    )
                if examples:
                    gr.Examples(
                        examples=examples,
                        inputs=[video],
                        example_labels=labels,
                        label="Examples (SynthMotion clips, and one without a person)",
                        examples_per_page=8,
                    )
            with gr.Column(scale=3, min_width=420):
                status = gr.Markdown(
                    "Upload a clip or pick an example, then press **Caption**.", elem_id="macm-status"
                )
                with gr.Row(elem_id="macm-captions"):
                    caption_msd = gr.HighlightedText(
                        label="Caption with MSD (orange: tokens MSD changed)",
                        color_map={inference.CHANGED_LABEL: "orange"},
                        show_legend=False,
                        show_inline_category=False,
                        elem_id="macm-caption-msd",
                    )
                    caption_plain = gr.HighlightedText(label="Caption without MSD", elem_id="macm-caption-plain")
                overlay = gr.Video(
                    label="Body drawn over the clip",
                    interactive=False,
                    autoplay=True,
                    loop=True,
                    elem_id="macm-overlay",
                )
                gallery = gr.Gallery(
                    label="Keyframes: RGB | motion frame",
                    columns=4,
                    height="auto",
                    object_fit="contain",
                    elem_id="macm-gallery",
                )
                # the figures carry their own titles (a Gradio label badge would cover them)
                synergy = gr.Plot(label="MSD step synergy per token", show_label=False, elem_id="macm-synergy")
                timeline = gr.Plot(label="Motion timeline", show_label=False, elem_id="macm-timeline")
                json_file = gr.File(label="Everything as JSON", elem_id="macm-json")
        button.click(
            run,
            inputs=[
                video,
                prompt,
                backend,
                num_keyframes,
                msd_enabled,
                msd_alpha,
                msd_beta,
                msd_theta,
                msd_synergy,
                max_new_tokens,
            ],
            outputs=[status, overlay, gallery, caption_msd, caption_plain, synergy, timeline, json_file],
            concurrency_limit=LIMITS.concurrency,
            concurrency_id="caption",
            api_name="caption",
        )
    blocks.queue(max_size=LIMITS.queue_size, default_concurrency_limit=LIMITS.concurrency)
    return blocks


def launch_kwargs() -> dict:
    """`launch()` settings of the page (Gradio 6 takes theme and CSS here); the upload limit is enforced by Gradio."""
    return {"theme": gr.themes.Soft(), "css": CSS, "max_file_size": int(LIMITS.max_file_mb * 1024 * 1024)}


inference.cleanup_stale()
inference.ensure_pose_models()
demo = build_demo()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
