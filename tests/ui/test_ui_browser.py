"""The web UI end to end: a person's paths through the page in headless Chromium, against the local
runner's real services. Screenshots of every screen land in .artifacts/ui/."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
import srt
from clipsift_testing.media import still_video
from clipsift_testing.talk import SCRIPT, build_talk_video
from playwright.sync_api import Page, expect

from ..e2e.conftest import Platform
from .conftest import DESKTOP, PHONE, api_json, no_horizontal_scroll, shoot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
GALLERY_TIMEOUT_MS = 300_000

# Records every value the two progress bars show, as a person watching them would see it change.
WATCH_PROGRESS = """() => {
  window.seenProgress = {upload: [], job: []};
  for (const [id, key] of [["upload-bar", "upload"], ["job-bar", "job"]]) {
    const bar = document.getElementById(id);
    const list = window.seenProgress[key];
    new MutationObserver(() => {
      const value = Number(bar.value);
      if (list[list.length - 1] !== value) list.push(value);
    }).observe(bar, {attributes: true, childList: true, subtree: true, characterData: true});
  }
}"""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_talk_video(tmp_path_factory.mktemp("talk"))


def test_a_wrong_key_shows_a_readable_error(page: Page, artifacts: Path) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()

    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#login-error")
    expect(alert).to_have_text("Enter an API key.")

    field = page.get_by_label("API key")
    field.fill("cs_00000000_not-a-real-key")
    field.press("Enter")
    expect(alert).to_have_text("The API key was not accepted: invalid or revoked API key")
    expect(alert).to_have_attribute("role", "alert")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.length") == 0, "a refused key must not be stored"
    shoot(page, artifacts, "login-wrong-key")


def test_keyboard_reaches_every_view_and_every_control_has_a_label(
    page: Page, ui_platform: Platform, artifacts: Path
) -> None:
    sign_in(page, ui_platform.runtime["api_key"])
    page.reload()  # still signed in (the tab's session), with focus back at the top of the page
    expect(page.get_by_role("heading", level=1, name="Clips")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for name, heading in (
        ("Duplicates", "Duplicates"),
        ("Jobs and usage", "Jobs and usage"),
        ("Clips", "Clips"),
    ):
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name)
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(link).to_have_attribute("aria-current", "page")
        # A visible focus ring: the focused element draws an outline.
        link.focus()
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !el.getAttribute("aria-labelledby") && !el.textContent.trim())
            .map(el => el.id || el.outerHTML)"""
    )
    assert unlabelled == []
    # Signed in for this tab only.
    assert page.evaluate("Object.keys(sessionStorage)") == ["clipsift.apiKey"]
    assert page.evaluate("localStorage.length") == 0


def test_clip_upload_progress_playback_and_srt_download(
    page: Page, ui_platform: Platform, talk: Path, artifacts: Path
) -> None:
    sign_in(page, ui_platform.runtime["api_key"])
    page.get_by_label("Video file").set_input_files(talk)
    page.get_by_label("Number of clips").fill("1")
    page.get_by_label("Shortest clip (seconds)").fill("8")
    page.get_by_label("Longest clip (seconds)").fill("20")
    page.get_by_label("Shape").select_option("9:16")
    page.evaluate(WATCH_PROGRESS)
    page.get_by_role("button", name="Upload and make clips").click()

    page.wait_for_function("() => Number(document.getElementById('job-bar').value) > 0", timeout=120_000)
    expect(page.locator("#job-status")).to_have_attribute("aria-live", "polite")
    shoot(page, artifacts, "clips-progress")
    page.wait_for_function(
        "() => !document.getElementById('clip-gallery').hidden"
        " || !document.getElementById('clip-error').hidden",
        timeout=GALLERY_TIMEOUT_MS,
    )
    expect(page.locator("#clip-error")).to_be_hidden()

    seen = page.evaluate("window.seenProgress")
    assert seen["upload"][-1] == 100, seen
    job = seen["job"]
    assert job == sorted(job), f"job progress went backwards: {job}"
    assert len(set(job)) >= 4, f"progress hardly advanced: {job}"
    assert job[-1] == 100
    steps = page.locator("#job-steps li")
    names = steps.evaluate_all("items => items.map(li => li.dataset.step)")
    for step in ("probe", "transcribe", "score", "render"):
        assert step in names, names
    assert set(steps.evaluate_all("items => items.map(li => li.dataset.state)")) == {"done"}

    # The gallery shows what the API says, best first.
    job_id = page.evaluate("location.hash").split("/")[1]
    manifest = api_json(ui_platform, f"/v1/jobs/{job_id}/clips")
    cards = page.locator(".clip-card")
    expect(cards).to_have_count(len(manifest["clips"]))
    clip = manifest["clips"][0]
    card = cards.first
    expect(card.locator(".clip-title")).to_have_text(clip["title"])
    expect(card.locator(".score-total")).to_have_text(f"{clip['score']['total']:.1f}")
    for name, value in clip["score"]["components"].items():
        expect(card.locator(f"[data-component='{name}'] .figure")).to_have_text(f"{value:.2f}")
    transcript = card.locator(".transcript").inner_text()
    assert transcript == clip["transcript"]
    spoken = set(_words(" ".join(SCRIPT)))
    assert len(set(_words(transcript)) & spoken) >= 0.8 * len(set(_words(transcript)))
    for label in ("MP4", "SRT", "VTT", "JSON"):
        expect(card.get_by_role("button", name=f"Download clip 1 as {label}")).to_be_visible()
    expect(card.locator("img.thumb")).to_be_visible()
    shoot(page, artifacts, "clips-gallery")

    # Play it in the page: the MP4 is fetched with the key and decoded by the browser.
    card.get_by_role("button", name=re.compile(r"^Play clip 1")).click()
    video = card.locator("video")
    expect(video).to_be_visible()
    video.evaluate("v => v.paused && v.play()")  # in case the browser held back autoplay
    page.wait_for_function(
        "() => { const v = document.querySelector('.clip-card video'); return v.currentTime > 0.5; }",
        timeout=30_000,
    )
    played = video.evaluate("v => ({w: v.videoWidth, h: v.videoHeight, d: v.duration})")
    assert (played["w"], played["h"]) == (clip["output"]["width"], clip["output"]["height"])
    assert played["d"] == pytest.approx(clip["duration"], abs=0.3)
    video.evaluate("v => v.pause()")
    shoot(page, artifacts, "clips-playing")

    with page.expect_download() as download_info:
        card.get_by_role("button", name="Download clip 1 as SRT").click()
    download = download_info.value
    assert download.suggested_filename == f"{job_id[:8]}-clip{clip['index']}.srt"
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    cues = list(srt.parse(saved.read_text(encoding="utf-8")))
    assert cues
    assert _words(" ".join(cue.content for cue in cues)) == _words(clip["transcript"])

    # The job is listed on the jobs page and opens its gallery again from there.
    page.get_by_role("link", name="Jobs and usage").click()
    page.get_by_role("link", name=f"Open clip job {job_id[:8]}").click()
    expect(page.get_by_role("heading", name="Clips, best first")).to_be_visible()
    expect(cards).to_have_count(len(manifest["clips"]))

    page.set_viewport_size(PHONE)
    expect(card.locator(".clip-title")).to_be_visible()
    assert no_horizontal_scroll(page), "the gallery scrolls sideways at phone width"
    shoot(page, artifacts, "clips-gallery-phone")


# Characters outside the Basic Multilingual Plane (🌅, 🦀) are one code point but two UTF-16 units: the
# API's offsets count code points, so a page slicing JavaScript strings by them would misplace every
# highlight after the first emoji.
NEAR_A = (
    "The harbour town wakes before dawn 🌅. Fishing boats slip out past the breakwater while the bakery "
    "on the quay lights its ovens, and the smell of fresh bread drifts over the water. By seven the "
    "market stalls are up, selling mackerel, crab 🦀 and the first strawberries of the season. Visitors "
    "who arrive on the early train often say the morning light on the painted houses is the best "
    "reason to come, better than any museum or gallery in the region. In the afternoon the tide goes "
    "out and children hunt for shells among the rock pools below the old lighthouse."
)
# The same article lightly edited: a changed opening, one sentence rewritten, one added.
NEAR_B = (
    "Our little harbour town wakes before dawn 🌅. Fishing boats slip out past the breakwater while the "
    "bakery on the quay lights its ovens, and the smell of fresh bread drifts over the water. By seven "
    "the market stalls are up, selling mackerel, crab 🦀 and the first strawberries of the season. Many "
    "visitors say the morning light is magical. In the afternoon the tide goes out and children hunt "
    "for shells among the rock pools below the old lighthouse. The café by the station stays open late."
)
OTHER = (
    "Compilers translate source code into machine instructions in several passes: lexing, parsing, "
    "semantic analysis, optimisation and code generation. Each pass hands a richer representation to "
    "the next, and most of the engineering effort goes into the optimiser."
)


def test_two_near_duplicate_documents_are_clustered_and_compared_side_by_side(
    page: Page, ui_platform: Platform, tmp_path: Path, artifacts: Path
) -> None:
    files = []
    for name, text in (("harbour.txt", NEAR_A), ("harbour-edited.txt", NEAR_B), ("compilers.txt", OTHER)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    sign_in(page, ui_platform.runtime["api_key"])
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_label("Text documents").set_input_files(files)
    page.get_by_label("Threshold").fill("0.3")
    page.get_by_role("button", name="Find duplicates").click()

    clusters = page.locator("#docs-clusters > li")
    expect(clusters).to_have_count(1)
    expect(clusters.first.locator(".members li")).to_have_text(["harbour-edited.txt", "harbour.txt"])
    expect(page.locator("#docs-summary")).to_contain_text("2 of 3 documents")
    shoot(page, artifacts, "duplicates-clusters")

    clusters.first.get_by_role("button", name=re.compile(r"^Compare harbour")).click()
    expect(page.locator("#compare-view")).to_be_visible()
    expect(page.locator("#compare-summary")).to_contain_text("shared passage")
    marks_a = page.locator("#pane-a mark .passage-text")
    marks_b = page.locator("#pane-b mark .passage-text")
    expect(marks_a.first).to_be_visible()
    texts_a = marks_a.all_inner_texts()
    texts_b = marks_b.all_inner_texts()
    titles = (page.locator("#pane-a-title").inner_text(), page.locator("#pane-b-title").inner_text())
    docs = {"harbour.txt": NEAR_A, "harbour-edited.txt": NEAR_B}
    assert len(texts_a) == len(texts_b) >= 1
    for a, b in zip(texts_a, texts_b, strict=True):
        assert a in docs[titles[0]]
        assert b in docs[titles[1]]
        assert len(a.split()) >= 8
    # The fishing-boat passage is shared verbatim, so it is highlighted on both sides.
    assert any("Fishing boats slip out past the breakwater" in t for t in texts_a)
    assert any("Fishing boats slip out past the breakwater" in t for t in texts_b)
    # The API's own report agrees on the number of passages.
    report = page.evaluate(
        """async ([a, b]) => (await fetch('/v1/text/compare', {method: 'POST', headers: {
             'Authorization': 'Bearer ' + sessionStorage.getItem('clipsift.apiKey'),
             'Content-Type': 'application/json'}, body: JSON.stringify({a, b})})).json()""",
        [docs[titles[0]], docs[titles[1]]],
    )
    assert len(report["passages"]) == len(texts_a)
    # Exactly the passages the API located (Python slices by code points, as the offsets count).
    assert texts_a == [docs[titles[0]][p["a_start"] : p["a_end"]] for p in report["passages"]]
    assert texts_b == [docs[titles[1]][p["b_start"] : p["b_end"]] for p in report["passages"]]
    assert any("🦀" in t for t in texts_a)

    # Keyboard: Enter on a passage jumps to its counterpart in the other document.
    first = page.locator("#pane-a mark").first
    first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pane-b mark").first).to_be_focused()
    expect(page.locator("#pane-b mark").first).to_have_class(re.compile("active"))
    shoot(page, artifacts, "duplicates-side-by-side")

    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page), "the comparison scrolls sideways at phone width"
    shoot(page, artifacts, "duplicates-side-by-side-phone")

    # The same documents by meaning (MiniLM embeddings): the edited article is still its original's twin.
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Method").select_option("semantic")
    page.get_by_label("Threshold").fill("0.8")
    page.get_by_role("button", name="Find duplicates").click()
    expect(clusters.first.locator(".pairs")).to_contain_text("cosine")
    expect(clusters).to_have_count(1)
    expect(clusters.first.locator(".members li")).to_have_text(["harbour-edited.txt", "harbour.txt"])


def test_a_set_over_the_request_limit_runs_as_a_dedup_job(
    page: Page, ui_platform: Platform, tmp_path: Path, artifacts: Path
) -> None:
    texts = {
        "a.txt": NEAR_A,
        "b.txt": NEAR_B,
        "c.txt": OTHER,
        "d.txt": OTHER.replace("Compilers", "Interpreters"),
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    before = {job["id"] for job in api_json(ui_platform, "/v1/jobs")["jobs"]}
    sign_in(page, ui_platform.runtime["api_key"])
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_label("Text documents").set_input_files([tmp_path / name for name in texts])
    page.get_by_label("Threshold").fill("0.3")
    page.get_by_role("button", name="Find duplicates").click()
    expect(page.locator("#docs-summary")).to_contain_text("2 clusters: 4 of 4 documents", timeout=60_000)
    expect(page.locator("#docs-error")).to_be_hidden()
    clusters = page.locator("#docs-clusters > li")
    members = {tuple(c.locator(".members li").all_inner_texts()) for c in clusters.all()}
    assert members == {("a.txt", "b.txt"), ("c.txt", "d.txt")}
    new_jobs = [job for job in api_json(ui_platform, "/v1/jobs")["jobs"] if job["id"] not in before]
    assert [(job["kind"], job["status"]) for job in new_jobs] == [("dedup", "completed")]
    # The job's clusters are compared side by side like any others.
    clusters.first.get_by_role("button", name=re.compile(r"^Compare")).click()
    expect(page.locator("#pane-a mark").first).to_be_visible()
    shoot(page, artifacts, "duplicates-corpus-job")


def test_image_duplicates_show_clusters_with_evidence(
    page: Page, ui_platform: Platform, tmp_path: Path, artifacts: Path
) -> None:
    from PIL import Image
    from skimage import data, io

    io.imsave(tmp_path / "astronaut.png", data.astronaut())
    io.imsave(tmp_path / "coffee.png", data.coffee())
    # A near copy: half size, recompressed as JPEG.
    Image.fromarray(data.astronaut()).resize((256, 256)).save(tmp_path / "astronaut-small.jpg", quality=70)
    images = [tmp_path / "astronaut.png", tmp_path / "coffee.png", tmp_path / "astronaut-small.jpg"]
    sign_in(page, ui_platform.runtime["api_key"])
    page.get_by_role("link", name="Duplicates").click()
    documents_tab = page.get_by_role("tab", name="Documents")
    documents_tab.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Images")).to_be_focused()
    expect(page.get_by_role("tab", name="Images")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Image files").set_input_files(images)
    page.get_by_role("button", name="Find duplicate images").click()
    expect(page.locator("#images-results")).to_be_visible(timeout=60_000)
    expect(page.locator("#images-error")).to_be_hidden()
    clusters = page.locator("#images-clusters > li.cluster")
    expect(clusters).to_have_count(1)
    expect(clusters.first).to_contain_text("astronaut.png")
    expect(clusters.first).to_contain_text("astronaut-small.jpg")
    expect(clusters.first).not_to_contain_text("coffee.png")
    evidence = re.compile(r"pHash \d+ · dHash \d+ · wHash \d+")
    expect(clusters.first.locator(".evidence li")).to_contain_text(evidence)
    shoot(page, artifacts, "duplicates-images")


def _submit_jobs(platform: Platform, tmp_path: Path) -> list[str]:
    """One job that completes (a small dedup corpus) and one that fails (a video with no speech)."""
    base = platform.runtime["gateway_url"]
    auth = {"Authorization": f"Bearer {platform.runtime['api_key']}"}
    corpus = "\n".join(
        json.dumps({"id": f"d{i}", "text": text}) for i, text in enumerate((NEAR_A, NEAR_B, OTHER))
    )
    dedup = httpx.post(
        f"{base}/v1/jobs?kind=dedup&threshold=0.3",
        content=corpus.encode(),
        headers={**auth, "Content-Type": "application/jsonl"},
        timeout=30,
    )
    assert dedup.status_code == 202, dedup.text
    silence = tmp_path / "silence.mp4"
    still_video(silence, 12)
    silent = httpx.post(
        f"{base}/v1/clips?count=1&min_seconds=5&max_seconds=10",
        content=silence.read_bytes(),
        headers={**auth, "Content-Type": "video/mp4"},
        timeout=60,
    )
    assert silent.status_code == 202, silent.text
    ids = [dedup.json()["id"], silent.json()["id"]]
    deadline = time.monotonic() + 180
    while {api_json(platform, f"/v1/jobs/{i}")["status"] for i in ids} - {"completed", "failed"}:
        assert time.monotonic() < deadline, "jobs did not finish"
        time.sleep(0.5)
    return ids


def test_jobs_with_status_and_errors_and_the_usage_chart(
    page: Page, ui_platform: Platform, tmp_path: Path, artifacts: Path
) -> None:
    dedup_id, silent_id = _submit_jobs(ui_platform, tmp_path)
    failed = api_json(ui_platform, f"/v1/jobs/{silent_id}")
    assert failed["status"] == "failed"
    jobs = api_json(ui_platform, "/v1/jobs")["jobs"]
    sign_in(page, ui_platform.runtime["api_key"])
    page.get_by_role("link", name="Jobs and usage").click()
    rows = page.locator("#jobs-body tr")
    expect(rows).to_have_count(len(jobs))
    failed_row = page.locator(f"#jobs-body tr[data-id='{silent_id}']")
    expect(failed_row.locator(".badge")).to_have_text("failed")
    expect(failed_row.locator(".job-error")).to_have_text(f"Error: {failed['message']}")
    assert "no speech" in failed["message"]
    done_row = page.locator(f"#jobs-body tr[data-id='{dedup_id}']")
    expect(done_row.locator(".badge")).to_have_text("completed")
    expect(done_row.locator("td").nth(1)).to_have_text("dedup")

    # Analytics ingests events asynchronously: refresh until both jobs are counted.
    dedup_bar = page.locator("#usage-chart svg g.bar[data-label='dedup'] rect[data-status='completed']")
    clip_failed = page.locator("#usage-chart svg g.bar[data-label='clip'] rect[data-status='failed']")
    for _ in range(30):
        if dedup_bar.count() and clip_failed.count():
            break
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(1000)
    summary = api_json(ui_platform, "/v1/analytics/summary")
    counts = {(r["job_kind"], r["status"]): r["jobs"] for r in summary["rows"]}
    assert int(dedup_bar.get_attribute("data-value") or 0) == counts[("dedup", "completed")]
    assert int(clip_failed.get_attribute("data-value") or 0) == counts[("clip", "failed")]
    expect(page.get_by_role("img", name=re.compile("Jobs by kind and status"))).to_be_visible()
    page.get_by_text("Show as a table").click()
    expect(page.locator(".chart-table tbody tr")).to_have_count(len({kind for kind, _ in counts}))
    shoot(page, artifacts, "jobs-and-usage")

    page.get_by_label("Job status").select_option("failed")
    expect(rows).to_have_count(len([j for j in jobs if j["status"] == "failed"]))

    page.set_viewport_size(PHONE)
    expect(page.locator("#usage-chart svg")).to_be_visible()
    assert no_horizontal_scroll(page), "the jobs page scrolls sideways at phone width"
    shoot(page, artifacts, "jobs-and-usage-phone")


def test_a_revoked_session_returns_to_sign_in_with_the_reason(page: Page, ui_platform: Platform) -> None:
    sign_in(page, ui_platform.runtime["api_key"])
    page.evaluate("sessionStorage.setItem('clipsift.apiKey', 'cs_00000000_revoked')")
    page.get_by_role("link", name="Jobs and usage").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("invalid or revoked API key")
