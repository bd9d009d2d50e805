"""The studio in a real headless browser: Debian's chromium driven by Playwright (Playwright's
own browser download is not reachable here). Skips without them; .ci/run installs chromium."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.studio.conftest import CspBypassBrowser, serve_studio

_JOBS = (
    "window.studioJobs.finished.filter(j => !['colorize', 'match', 'fast-style'].includes(j.kind))"
)
_COLOURED = "window.studioJobs.finished.filter(j => j.kind === 'colorize').length"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
SHOTS = (
    Path(os.environ.get("PHOTOGEN_SCREENSHOTS", ""))
    if os.environ.get("PHOTOGEN_SCREENSHOTS")
    else None
)


@pytest.fixture(scope="module")
def studio_url(runs_dir, tiny_db, pixelcnn_run, fast_style_run):
    from photogen.studio.server import StudioConfig

    config = StudioConfig(models=[str(runs_dir)], db=str(tiny_db[0]), pixelcnn=[str(pixelcnn_run)],
                          style_models=[str(fast_style_run)])  # fmt: skip
    with serve_studio(config) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = CspBypassBrowser(p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"]))
        yield b
        b.close()


def _wait_frames(page, n, timeout=30000):
    page.wait_for_function(
        f"window.studioStats && window.studioStats.frames >= {n}", timeout=timeout
    )


def _draw(page, x0, y0, length=120, steps=12):
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    for j in range(1, steps + 1):
        page.mouse.move(box["x"] + x0 + j * length / steps, box["y"] + y0 + j * 7)
    page.mouse.up()


def test_drawing_updates_the_picture(browser, studio_url, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(studio_url)
    _wait_frames(page, 1)  # the first model: the bundled facades generator when present
    first = page.get_attribute("#out", "src")
    frames = page.evaluate("window.studioStats.frames")
    page.locator(".swatch[data-name='door']").click()
    _draw(page, 80, 200)
    _wait_frames(page, frames + 1)
    page.wait_for_function(f"document.getElementById('out').src !== {json.dumps(first)}")
    second = page.get_attribute("#out", "src")
    for k in range(6):  # more strokes: latencies accumulate
        _draw(page, 40 + 60 * k, 60 + 50 * k, length=80)
        time.sleep(0.15)
    page.wait_for_function("window.studioStats.frames >= 4")
    time.sleep(0.5)
    stats = page.evaluate("window.studioStats")
    assert page.get_attribute("#out", "src") != second  # it changed with the next stroke too
    lat = sorted(stats["latencies"])
    p50, p95 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    print(
        f"\nstudio sketch, {len(lat)} updates: stroke to picture p50 {p50:.0f} ms, p95 {p95:.0f} ms"
    )
    assert p50 < 10_000  # catches a hang only: the 250 ms target is benchmarks/studio*.py's
    assert "p50" in page.inner_text("#stats")
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_sketch.png"))
    page.click("#undo")  # undo and clear send new frames and keep working
    page.click("#clear")
    _wait_frames(page, stats["frames"] + 1)
    assert not errors and not stats["errors"], (errors, stats["errors"])
    page.close()


def test_a_truncated_upload_shows_an_error_and_the_page_still_works(
    browser, studio_url, tmp_path, bad_files
):
    page = browser.new_page()
    page.goto(studio_url)
    _wait_frames(page, 1)
    page.set_input_files("#upload", str(bad_files["truncated.png"]))
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "truncated" in page.inner_text("#error")
    frames = page.evaluate("window.studioStats.frames")
    _draw(page, 50, 50)
    _wait_frames(page, frames + 1)
    page.close()


def test_a_second_visitor_does_not_see_the_first_ones_drawing(browser, studio_url):
    a, b = browser.new_context(), browser.new_context()
    pa, pb = a.new_page(), b.new_page()
    pa.goto(studio_url)
    _wait_frames(pa, 1)
    start = pa.get_attribute("#out", "src")
    _draw(pa, 30, 30, length=200)
    pa.wait_for_function(f"document.getElementById('out').src !== {json.dumps(start)}")
    pb.goto(studio_url)
    _wait_frames(pb, 1)
    assert pb.get_attribute("#out", "src") == start  # b sees its own (example) picture
    a.close()
    b.close()


def test_the_job_line_says_when_a_queued_job_starts_and_ends(browser, studio_url):
    """The page's words for the server's estimates (the estimates: test_jobs.py)."""
    page = browser.new_page()
    page.goto(studio_url)
    line = "(s) => import('/static/common.js').then((m) => m.jobLine(s))"
    queued = {"status": "queued", "position": 2, "starts": 42.0, "eta": 300.0}
    assert (
        page.evaluate(line, queued) == "queued: 1 ahead, starts in about 42 s, done in about 5 min"
    )
    unknown = {"status": "queued", "position": 1, "starts": None, "eta": None}
    assert page.evaluate(line, unknown) == "queued: next"
    running = {"status": "running", "done": 3, "total": 10, "eta": 12.4, "loss": 0.5}
    assert page.evaluate(line, running) == "running 3/10, 12 s left, loss 0.5000"
    page.close()


def test_style_job_and_cancelled_texture_job(browser, studio_url, tmp_path):
    """A style job with few evaluations: progress, then a result to download. A long texture
    job cancelled from the page: the server is idle again within 2 s (the next job runs)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(studio_url)
    page.click("button[data-tab=style]")
    page.wait_for_function(
        "document.querySelector('#style img.input[data-for=content]').src.startsWith('blob:')"
    )
    if not page.evaluate("document.querySelector('#style img.input[data-for=style]').src"):
        page.select_option("#style select.sample[data-for=style]", "gravel")  # no opencv-doc
    page.eval_on_selector("#style [name=size]", "e => { e.value = 96; }")
    page.eval_on_selector("#style [name=steps]", "e => { e.value = 20; }")
    page.click("#style .run")
    page.wait_for_function(f"{_JOBS}.length >= 1", timeout=120000)
    assert page.evaluate(f"{_JOBS}[0].status") == "done"
    assert "done in" in page.inner_text("#style .progress-text")
    assert page.get_attribute("#style a.result", "href").endswith("/result.png")
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_style.png"))
    page.click("button[data-tab=texture]")
    page.wait_for_function("document.querySelector('#texture').holeMask")
    page.eval_on_selector("#texture [name=steps]", "e => { e.value = 300; }")
    page.click("#texture .run")
    page.wait_for_function("window.studioJobs.previews >= 3", timeout=60000)
    assert "running" in page.inner_text("#texture .progress-text")
    t0 = time.time()
    page.click("#texture .cancel")
    page.wait_for_function(f"{_JOBS}.length >= 2", timeout=10000)
    assert page.evaluate(f"{_JOBS}[1].status") == "cancelled"
    assert time.time() - t0 < 2.0
    page.select_option("#texture [name=method]", "quilting")
    page.click("#texture .run")
    page.wait_for_function(f"{_JOBS}.length >= 3", timeout=10000)
    assert page.evaluate(f"{_JOBS}[2].status") == "done"
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_texture.png"))
    assert not errors, errors
    page.close()


def test_dream_tab_runs_a_job_with_the_chosen_layer(browser, studio_url, tmp_path):
    """The Dream tab: its layer list from the network, a job with progress and the picture
    shown, a result to download that records the layer chosen."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(studio_url)
    page.click("button[data-tab=dream]")
    page.wait_for_function(
        "document.querySelector('#dream img.input[data-for=photo]').src.startsWith('blob:')"
    )
    page.wait_for_function("document.querySelector('#dream [name=layer]').options.length > 5")
    assert page.input_value("#dream [name=layer]") == "block10"
    page.select_option("#dream [name=layer]", "block4")
    for name, value in (("size", 128), ("octaves", 2), ("steps", 4)):
        page.eval_on_selector(f"#dream [name={name}]", f"e => {{ e.value = {value}; }}")
    page.click("#dream .run")
    page.wait_for_function(f"{_JOBS}.length >= 1", timeout=120000)
    assert page.evaluate(f"{_JOBS}[0].status") == "done"
    # the last preview is set when the job ends and decodes after: wait for it, then look
    shown = "document.querySelector('#dream img.preview')"
    page.wait_for_function(f"{shown}.complete && {shown}.naturalWidth > 0")
    assert page.evaluate(f"{shown}.naturalWidth") == 128
    href = page.get_attribute("#dream a.result", "href")
    png = bytes(page.evaluate(f"fetch('{href}').then(r => r.arrayBuffer())"
                              ".then(b => Array.from(new Uint8Array(b)))"))  # fmt: skip
    from photogen.core.provenance import read_settings

    assert read_settings(png)["studio"]["fields"]["layer"] == "block4"
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_dream.png"))
    assert not errors
    page.close()


def test_playground_trains_in_the_page(browser, studio_url, tmp_path):
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(studio_url)
    page.click("button[data-tab=playground]")
    page.select_option("#playground [name=dataset]", "xor")
    page.fill("#playground [name=epochs]", "1000")
    page.select_option("#playground [name=lr]", "0.1")
    page.click("#playground .run")
    page.wait_for_function(f"{_JOBS}.length >= 1", timeout=60000)
    assert page.evaluate(f"{_JOBS}[0].status") == "done"
    assert page.evaluate("window.studioJobs.previews") >= 2  # redrawn while training
    assert "done in" in page.inner_text("#playground .progress-text")
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_playground.png"))
    page.close()


def test_matching_tab(browser, studio_url, tiny_db, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    page.goto(studio_url)
    page.wait_for_selector(".tab[data-tab=matching]:not([hidden])")
    page.click("button[data-tab=matching]")
    page.set_input_files("#matching input.file", str(tiny_db[1] / "reds" / "05.png"))
    page.wait_for_function("document.querySelector('#matching img.input').src.startsWith('blob:')")
    with page.expect_response("**/api/match") as first:
        page.click("#matching .run")
    page.wait_for_function(
        "document.querySelector('#matching img.montage').src.startsWith('data:')"
    )
    assert "vote: reds" in page.inner_text("#matching .vote")
    assert page.inner_text("#matching .error").strip() == ""  # a whole answer: nothing said
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_matching.png"))

    # a cluster's answer with a part missing (--db-scheduler; the server side is tested in
    # test_jobs): the page says which images did not answer, beside the neighbours it shows
    body = first.value.json()
    body["partial"] = [[0, 24000]]
    page.route("**/api/match", lambda route: route.fulfill(json=body))
    page.click("#matching .run")
    page.wait_for_function("document.querySelector('#matching .error').textContent !== ''")
    said = page.inner_text("#matching .error")
    assert "partial answer" in said and "0–23,999" in said and "vote: reds" in page.inner_text(
        "#matching .vote")  # fmt: skip
    page.close()


def test_completion_tab(browser, studio_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.goto(studio_url)
    page.wait_for_selector(".tab[data-tab=pixelcnn]:not([hidden])")
    page.click("button[data-tab=pixelcnn]")
    # the bundled Fashion-MNIST model and its sample picture come up by themselves
    page.wait_for_function("document.getElementById('pixelcnn').box !== null")
    assert page.input_value("#pixelcnn [name=model]") == "fashion (bundled)"
    assert page.input_value("#pixelcnn [name=size]") == "28"
    page.select_option("#pixelcnn select.sample", "fashion-trouser")
    page.wait_for_timeout(300)
    box = page.locator("#pixelcnn canvas.boxpick").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] * 0.5)  # hide the lower half
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=4)
    page.mouse.up()
    drawn = page.evaluate("document.getElementById('pixelcnn').box")
    assert drawn[2] > 20 and drawn[3] > 10
    page.eval_on_selector("#pixelcnn [name=n]", "e => { e.value = 4; }")
    page.click("#pixelcnn .run")
    page.wait_for_function(f"{_JOBS}.length >= 1", timeout=60000)
    assert page.evaluate(f"{_JOBS}[0].status") == "done"
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_completion.png"))
    page.close()


def test_colorize_tab(browser, studio_url, tmp_path):
    """A grey photo uploaded -> a colour result by the best installed model (selected)."""
    from photogen.core.image import decode_image, read_image, save_image
    from photogen.core.samples import load_sample

    grey = load_sample("chelsea").mean(1, keepdim=True).expand(-1, 3, -1, -1)
    save_image(grey, tmp_path / "grey.png")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    page.click("button[data-tab=colorize]")
    page.wait_for_function("document.querySelector('#colorize [name=model]').options.length > 0")
    page.wait_for_function(f"{_COLOURED} >= 1", timeout=30000)  # the sample, coloured on load
    n = page.evaluate(_COLOURED)
    page.set_input_files("#colorize input.file", str(tmp_path / "grey.png"))
    page.wait_for_function(f"{_COLOURED} >= {n + 1}", timeout=30000)
    page.wait_for_function(
        "document.querySelector('#colorize img.preview').src.startsWith('blob:')"
    )
    png = page.evaluate(
        """async () => { const r = await fetch(document.querySelector('#colorize a.result').href);
                         return Array.from(new Uint8Array(await r.arrayBuffer())); }"""
    )
    result = decode_image(bytes(png))
    assert result.shape == read_image(tmp_path / "grey.png").shape
    assert float((result.max(1).values - result.min(1).values).mean()) > 0.02  # in colour
    assert "region only" in page.inner_text("#colorize .hint-note")
    selected = page.eval_on_selector(
        "#colorize [name=model]", "s => s.options[s.selectedIndex].text"
    )
    assert "best installed" in selected
    offered = page.eval_on_selector_all("#colorize [name=model] option", "o => o.map(x => x.value)")
    assert "download:siggraph17" in offered  # not cached here: offered as a download
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_colorize.png"))
    page.close()


def test_a_scribble_colours_its_spot_and_not_the_far_side(browser, studio_url, tmp_path):
    """A blue scribble painted at an asymmetric spot (lower left) of the default model's
    result: the colour there moves to the blue, the upper right does not move; then a click
    (a point) adds a pin. Fails with x/y swapped, with the strokes not sent, without the
    propagation."""
    from photogen.core.color import rgb_to_lab
    from photogen.core.image import decode_image, save_image
    from photogen.core.samples import load_sample

    save_image(
        load_sample("chelsea").mean(1, keepdim=True).expand(-1, 3, -1, -1), tmp_path / "g.png"
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    page.click("button[data-tab=colorize]")
    page.wait_for_function("document.querySelector('#colorize [name=model]').options.length > 0")
    done = _COLOURED
    page.wait_for_function(f"{done} >= 1", timeout=30000)
    n0 = page.evaluate(done)
    page.set_input_files("#colorize input.file", str(tmp_path / "g.png"))
    page.wait_for_function(f"{done} >= {n0 + 1}", timeout=30000)
    fetch = """async () => {
        const r = await fetch(document.querySelector('#colorize a.result').href);
        return Array.from(new Uint8Array(await r.arrayBuffer())); }"""
    before = rgb_to_lab(decode_image(bytes(page.evaluate(fetch))))
    n = page.evaluate(done)
    page.eval_on_selector("#colorize [name=colour]", "e => { e.value = '#1f4fd8'; }")
    page.select_option("#colorize [name=tool]", "brush")
    box = page.locator("#colorize canvas.strokes").bounding_box()
    y = 0.8
    page.mouse.move(box["x"] + 0.12 * box["width"], box["y"] + y * box["height"])
    page.mouse.down()
    for fx in (0.15, 0.2, 0.25, 0.3):
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + y * box["height"])
    page.mouse.up()
    page.wait_for_function(f"{done} >= {n + 1}", timeout=30000)
    page.wait_for_timeout(300)
    after = rgb_to_lab(decode_image(bytes(page.evaluate(fetch))))
    h, w = before.shape[-2:]
    blue = rgb_to_lab(torch_hint())[0, 1:, 0, 0]
    spot = (slice(None), slice(1, 3), slice(int(y * h) - 3, int(y * h) + 4),
            slice(int(0.18 * w), int(0.27 * w)))  # fmt: skip
    d_before = float((before[spot].mean((0, 2, 3)) - blue).norm())
    d_after = float((after[spot].mean((0, 2, 3)) - blue).norm())
    print(f"\nab distance to the scribble's colour under it: {d_before:.1f} -> {d_after:.1f}")
    assert d_after < 20 < d_before
    far = (after - before)[0, 1:, : h // 3, 2 * w // 3 :].norm(dim=0)
    assert float(far.mean()) < 2  # the upper right did not move
    page.select_option("#colorize [name=tool]", "point")
    n = page.evaluate(done)
    page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.3 * box["height"])
    page.wait_for_function(f"{done} >= {n + 1}", timeout=30000)
    assert page.locator("#colorize .pin").count() == 1
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_colorize_hint.png"))
    page.close()


def torch_hint():
    import torch

    return torch.tensor([0x1F, 0x4F, 0xD8], dtype=torch.float32).view(1, 3, 1, 1) / 255


def test_the_page_obeys_its_own_content_security_policy(browser, studio_url):
    """Under the real policy (no bypass) every tab opens with no violation reported and no
    script error: no inline script, style attribute or eval in the page."""
    page = browser.strict_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(studio_url)
    for tab in page.eval_on_selector_all("button[data-tab]", "b => b.map(x => x.dataset.tab)"):
        page.click(f"button[data-tab={tab}]")
        page.wait_for_selector(f"#{tab}:not([hidden])")
    assert page.evaluate("window.__csp") == [] and errors == []
    page.close()


def test_the_tabs_follow_the_aria_pattern_with_arrow_keys(browser, studio_url):
    """role tablist/tab/tabpanel, aria-selected on the open tab only, one tab in the Tab order;
    ArrowRight/ArrowLeft/End/Home move and open (fails with the keys unhandled)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    assert page.get_attribute("#tabs", "role") == "tablist"
    assert page.get_attribute("#sketch", "role") == "tabpanel"
    selected = "[...document.querySelectorAll('[role=tab]')].filter(t => t.getAttribute('aria-selected') === 'true').map(t => t.dataset.tab)"  # noqa: E501
    assert page.evaluate(selected) == ["sketch"]
    page.focus("#tab-sketch")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(selected) == ["colorize"]
    assert page.evaluate("document.activeElement.id") == "tab-colorize"
    assert page.is_visible("#colorize") and not page.is_visible("#sketch")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # wraps to the last visible tab
    assert page.evaluate(selected) == ["live"]
    page.keyboard.press("Home")
    assert page.evaluate(selected) == ["sketch"]
    tab_stops = "[...document.querySelectorAll('[role=tab]')].filter(t => t.tabIndex === 0).length"
    assert page.evaluate(tab_stops) == 1
    page.close()


AXE = Path(os.environ.get("PHOTOGEN_AXE", "build/axe/node_modules/axe-core/axe.min.js"))


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core not installed (make axe)")
def test_axe_core_finds_no_wcag_violation_on_any_tab(browser, studio_url):
    """axe-core (npm), WCAG 2.1 A and AA rules, on every tab as it opens with its samples."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    tabs = page.eval_on_selector_all("button[data-tab]", "b => b.map(x => x.dataset.tab)")
    found = {}
    for tab in tabs:
        if page.is_hidden(f"button[data-tab={tab}]"):
            continue
        page.click(f"button[data-tab={tab}]")
        page.wait_for_selector(f"#{tab}:not([hidden])")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
        )
        found[tab] = [
            (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
        ]
    assert found and all(v == [] for v in found.values()), found
    page.close()


def test_palette_labels_contrast_with_their_swatches(browser, studio_url):
    """Black or white, whichever contrasts more: at least 4.5:1 on every label (white text on
    the yellow and green swatches was 1.1-2:1)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    page.wait_for_selector("#palette .swatch")
    ratios = page.eval_on_selector_all(
        "#palette .swatch",
        """bs => bs.map(b => {
            const rgb = s => s.match(/\\d+/g).slice(0, 3).map(Number);
            const lum = c => { const l = c.map(v => { v /= 255;
                return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
            const st = getComputedStyle(b);
            const a = lum(rgb(st.color)), z = lum(rgb(st.backgroundColor));
            return (Math.max(a, z) + 0.05) / (Math.min(a, z) + 0.05); })""",
    )
    assert ratios and min(ratios) >= 4.5, ratios
    page.close()


def test_a_failed_upload_takes_the_previous_result_away(browser, studio_url, tmp_path):
    """Colorize a photo, then upload a truncated one: one line where the user looks, and
    neither the old picture nor its download link stays (they were the previous photo's)."""
    from photogen.core.image import save_image
    from photogen.core.samples import load_sample

    save_image(load_sample("chelsea"), tmp_path / "ok.png")
    (tmp_path / "bad.png").write_bytes((tmp_path / "ok.png").read_bytes()[:300])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    page.click("button[data-tab=colorize]")
    page.wait_for_function(f"{_COLOURED} >= 1", timeout=30000)
    n = page.evaluate(_COLOURED)
    page.set_input_files("#colorize input.file", str(tmp_path / "ok.png"))
    page.wait_for_function(f"{_COLOURED} >= {n + 1}", timeout=30000)
    assert page.is_visible("#colorize a.result")
    page.set_input_files("#colorize input.file", str(tmp_path / "bad.png"))
    page.wait_for_function("document.querySelector('#colorize .error').textContent.length > 0")
    assert "truncated" in page.inner_text("#colorize .error") or "corrupt" in page.inner_text(
        "#colorize .error"
    )
    assert not page.is_visible("#colorize a.result")
    assert page.get_attribute("#colorize img.preview", "src") is None
    page.close()


def test_ctrl_enter_runs_the_open_tab(browser, studio_url):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    page.click("button[data-tab=colorize]")
    page.wait_for_function(f"{_COLOURED} >= 1", timeout=30000)
    n = page.evaluate(_COLOURED)
    page.keyboard.press("Control+Enter")
    page.wait_for_function(f"{_COLOURED} >= {n + 1}", timeout=30000)
    page.close()


def test_the_sketch_error_line_is_where_the_user_looks(browser, studio_url, tmp_path):
    """A bad upload's message is inside the 1280x800 viewport, above the boards (it was
    below the fold)."""
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio_url)
    _wait_frames(page, 1)  # the first picture's answer clears the error line: let it come first
    page.set_input_files("#upload", str(tmp_path / "bad.png"))
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    box = page.locator("#error").bounding_box()
    assert box["y"] + box["height"] <= 800
    assert box["y"] < page.locator("#canvas").bounding_box()["y"]
    page.close()


def test_a_job_lost_with_a_restart_resets_the_page(browser, tmp_path):
    """The server forgets the visitor (as after a restart: the cookie is unknown): the running
    job's display says so in one line and Run is usable again (it froze, Run disabled)."""
    from photogen.studio.server import StudioConfig

    with serve_studio(StudioConfig()) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url)
        page.click("button[data-tab=texture]")
        page.wait_for_function("document.querySelector('#texture').holeMask")
        page.eval_on_selector("#texture [name=steps]", "e => { e.value = 300; }")
        page.click("#texture .run")
        page.wait_for_function("document.querySelector('#texture .run').disabled")
        context.clear_cookies()  # the server no longer knows this visitor
        page.wait_for_function(
            "document.querySelector('#texture .error').textContent.includes('gone')"
        )
        assert page.is_enabled("#texture .run") and page.is_disabled("#texture .cancel")
        context.close()


def test_history_strip_and_loading_a_results_settings(browser, studio_url, tmp_path):
    """A finished job appears in the strip (and stays after a reload); its PNG, loaded back
    through the page, opens its tab with the fields it was made with."""
    import base64

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(studio_url)
    page.click("button[data-tab=playground]")
    page.select_option("#playground [name=dataset]", "xor")
    page.fill("#playground [name=epochs]", "37")
    page.fill("#playground [name=seed]", "5")
    page.click("#playground .run")
    page.wait_for_function(f"{_JOBS}.length >= 1", timeout=60000)
    page.wait_for_function("window.studioHistory.shown >= 1")
    thumb = "#history .strip img"
    page.wait_for_function(f"document.querySelector('{thumb}').naturalWidth > 0")
    assert "epochs 37" in page.get_attribute(thumb, "alt")
    page.reload()
    page.wait_for_function("window.studioHistory && window.studioHistory.shown >= 1")
    href = page.get_attribute("#history .strip a", "href")
    data = page.evaluate(
        """async (u) => { const b = new Uint8Array(await (await fetch(u)).arrayBuffer());
        let s = ""; for (const x of b) s += String.fromCharCode(x); return btoa(s); }""",
        href,
    )
    result = tmp_path / "made-here.png"
    result.write_bytes(base64.b64decode(data))
    page.click("button[data-tab=playground]")
    page.fill("#playground [name=epochs]", "100")
    page.select_option("#playground [name=dataset]", "circle")
    page.click("button[data-tab=style]")
    page.set_input_files("#history .settings-file", str(result))
    page.wait_for_function("window.studioHistory.loaded !== null")
    assert page.get_attribute("#tab-playground", "aria-selected") == "true"
    assert page.input_value("#playground [name=epochs]") == "37"
    assert page.input_value("#playground [name=dataset]") == "xor"
    assert page.input_value("#playground [name=seed]") == "5"
    assert "playground settings of made-here.png loaded" in page.inner_text("#history")
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_history.png"))
    assert not errors, errors
    page.close()


def test_the_fast_style_network_answers_and_the_strength_slider_blends_in_the_page(
    browser, studio_url, tmp_path
):
    """The Style tab's fast mode: one request, then the slider redraws without asking again;
    at 0 % the canvas is the photo, at 100 % the network's picture."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, posts = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(studio_url)
    page.click("button[data-tab=style]")
    page.wait_for_selector("#style .fast-row:not([hidden])")
    page.wait_for_function(
        "document.querySelector('#style img.input[data-for=content]').src.startsWith('blob:')"
    )
    page.select_option("#style [name=fast_model]", "tiny_gravel")
    page.click("#style .fast")
    page.wait_for_function("window.studioFast && window.studioFast.drawn >= 1", timeout=60000)
    mean = """() => { const c = document.querySelector('#style canvas.fast-out');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2];
        return s / (d.length / 4 * 3); }"""
    photo_mean = """async () => {
        const img = document.querySelector('#style img.input[data-for=content]');
        const f = document.querySelector('#style canvas.fast-out');
        const c = document.createElement('canvas');
        c.width = f.width; c.height = f.height;
        const x = c.getContext('2d');
        x.drawImage(img, 0, 0, c.width, c.height);
        const d = x.getImageData(0, 0, c.width, c.height).data;
        let s = 0;
        for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2];
        return s / (d.length / 4 * 3); }"""
    full = page.evaluate(mean)
    sent = len([u for u in posts if u.endswith("/api/style/fast")])
    page.eval_on_selector("#style [name=strength]",
                          "e => { e.value = 0; e.dispatchEvent(new Event('input')); }")  # fmt: skip
    none = page.evaluate(mean)
    assert abs(none - page.evaluate(photo_mean)) < 1.0  # 0 %: the photo itself
    assert abs(full - none) > 2.0  # 100 %: the network's picture, not the photo
    assert len([u for u in posts if u.endswith("/api/style/fast")]) == sent == 1
    page.screenshot(path=str((SHOTS or tmp_path) / "studio_style_fast.png"))
    assert not errors, errors
    page.close()


def test_a_frame_answer_does_not_wipe_an_upload_error(browser, studio_url, tmp_path):
    """Only errors that came from frames are cleared by the next good frame: a failed
    upload's message stays while the visitor goes on drawing."""
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    page = browser.new_page()
    page.goto(studio_url)
    _wait_frames(page, 1)
    page.set_input_files("#upload", str(tmp_path / "bad.png"))
    page.wait_for_function("document.querySelector('#error').textContent.length > 0")
    frames = page.evaluate("window.studioStats.frames")
    _draw(page, 60, 60)
    _wait_frames(page, frames + 1)
    assert "bad.png" in page.inner_text("#error")
    page.close()
