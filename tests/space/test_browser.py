"""The Space in headless Chromium (Debian's `chromium`, driven by Playwright): a freshly generated SynthMotion clip is
uploaded and captioned, the overlay video plays, a bad upload gets a readable message and the page keeps working.

Chromium is found at `$MACM_CHROMIUM`, else `chromium` / `chromium-browser` on the PATH (`ci/install_browser.sh`
installs it). Without it these tests fail, unless `MACM_SKIP_BROWSER_TESTS=1` says to skip them. Screenshots go to
the test's temporary folder and the captioned page also to `$MACM_SPACE_SCREENSHOT` (default
`/tmp/space_screenshot.png`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                 "--autoplay-policy=no-user-gesture-required", "--disable-background-networking", "--no-first-run"]  # fmt: skip
TIMEOUT_MS = 120_000
EXAMPLES = Path(__file__).resolve().parents[2] / "space" / "examples"
SCREENSHOT = Path(os.environ.get("MACM_SPACE_SCREENSHOT", "/tmp/space_screenshot.png"))

pytestmark = pytest.mark.usefixtures("blazepose")


def _chromium() -> str | None:
    candidates = [os.environ.get("MACM_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((path for path in candidates if path and Path(path).exists()), None)


def _unavailable(reason: str):
    if os.environ.get("MACM_SKIP_BROWSER_TESTS") == "1":
        pytest.skip(f"{reason} (MACM_SKIP_BROWSER_TESTS=1)")
    pytest.fail(f"{reason}: run `bash ci/install_browser.sh`, or set MACM_SKIP_BROWSER_TESTS=1 to skip browser tests")


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        _unavailable("Chromium not found (MACM_CHROMIUM, chromium, chromium-browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Playwright client is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    page.wait_for_selector("#macm-run")
    yield page
    page.close()


def _upload(page, path: Path) -> None:
    page.locator("#macm-video input[type=file]").set_input_files(str(path))
    page.locator("#macm-video video").wait_for()  # Gradio shows the player once the upload is in


def _caption_and_wait(page) -> None:
    page.click("#macm-run")
    page.wait_for_function("() => /Done/.test(document.querySelector('#macm-status')?.innerText || '')")


def test_upload_caption_and_overlay_plays(page, synth_clip, space_model, check_names_action, tmp_path):
    clip, row = synth_clip
    model_line = page.inner_text("#macm-model")
    if space_model.embedded:
        assert "synthmotion-tiny" in model_line and "knows only those synthetic motions" in model_line
    else:
        assert str(space_model.path) in model_line
    _upload(page, clip)
    _caption_and_wait(page)

    caption_msd = page.inner_text("#macm-caption-msd .textfield").strip()
    caption_plain = page.inner_text("#macm-caption-plain .textfield").strip()
    assert caption_msd and caption_plain, (caption_msd, caption_plain)
    assert page.locator("#macm-gallery img").count() >= 8
    assert page.locator("#macm-synergy img, #macm-synergy svg").count() >= 1
    assert page.locator("#macm-timeline img, #macm-timeline svg").count() >= 1
    assert page.locator("#macm-json a").count() >= 1

    played = page.evaluate(
        """async () => {
            const video = document.querySelector('#macm-overlay video');
            video.muted = true;
            await video.play();
            const start = video.currentTime;
            await new Promise((resolve) => setTimeout(resolve, 700));
            return {start, now: video.currentTime, width: video.videoWidth, error: video.error && video.error.code};
        }"""
    )
    assert played["error"] is None and played["width"] >= 384, played
    assert played["now"] != played["start"], played  # the clip advances (it loops, so compare, don't order)

    page.locator("#macm-caption-msd").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "space_captioned.png"
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
    if space_model.embedded:  # the trained checkpoint: the caption names what the humanoid did
        check_names_action(caption_msd, row)


def test_bad_upload_gives_a_readable_message_and_the_page_keeps_working(page, bad_uploads, tmp_path):
    _upload(page, bad_uploads["text"])  # Gradio's player appears (and says it cannot play it)
    page.click("#macm-run")
    page.locator(".toast-body", has_text="could not be read as a video").first.wait_for(state="visible")
    page.wait_for_function("() => /Cannot caption this video/.test(document.querySelector('#macm-status').innerText)")
    assert "could not be read as a video" in page.inner_text("#macm-status")
    page.screenshot(path=str(tmp_path / "space_bad_upload.png"), full_page=True)
    # the next request on the same page is served: pick the first example and caption it
    example = json.loads((EXAMPLES / "examples.json").read_text())[0]
    page.get_by_text(example["label"], exact=True).click()
    page.wait_for_function(
        "name => (document.querySelector('#macm-video video')?.src || '').endsWith(name)", arg=example["file"]
    )
    _caption_and_wait(page)
    assert page.inner_text("#macm-caption-plain .textfield").strip()
