"""The LLM re-ranker inside a real clip job: a real llama.cpp server (SmolLM2-135M) re-ranks the
built-in shortlist for the request's prompt, its reason shown among the score's reasons; with
the endpoint down the job still completes, ranked by the built-in score, with a warning."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clipsift_testing.talk import build_talk_video

from .conftest import Platform, start_platform, stop_platform
from .test_clips_e2e import _auth, follow, upload

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "video" / "tests"))
from llm_server import MODEL_ALIAS, free_port, llama_server

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
QUERY = "count=2&min_seconds=8&max_seconds=20&prompt=the+first+startup+that+failed&topic_keywords=startup"


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_talk_video(tmp_path_factory.mktemp("talk"), width=640, height=360)


@pytest.fixture(scope="module")
def llm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(tmp_path_factory.mktemp("llm") / "llama.log") as url:
        yield url


def _platform(tmp_path_factory: pytest.TempPathFactory, llm_url: str) -> Platform:
    env = {
        "CLIPSIFT_NATS_URL": "",
        "CLIPSIFT_DATABASE_URL": "",
        "CLIPSIFT_VIDEO_OUTPUT_LONG_SIDE": "640",
        "CLIPSIFT_VIDEO_RENDER_PRESET": "ultrafast",
        "CLIPSIFT_VIDEO_LLM_URL": llm_url,
        "CLIPSIFT_VIDEO_LLM_MODEL": MODEL_ALIAS,
        "CLIPSIFT_VIDEO_LLM_TIMEOUT_SECONDS": "120",
        # The shortlist is the two clips asked for, so both are the model's to judge: with a longer
        # one, SmolLM2-135M's low marks can let clips it left unjudged win on the built-in score.
        "CLIPSIFT_VIDEO_LLM_CANDIDATES": "2",
    }
    return start_platform(tmp_path_factory.mktemp("llm-platform") / "home", env)


def _clip_job(platform: Platform, talk: Path) -> dict:
    reply = upload(platform, talk, QUERY)
    assert reply.status_code == 202, reply.text
    events = follow(platform, reply.json()["id"])
    assert events[-1]["type"] == "completed", events[-1]
    base = platform.runtime["gateway_url"]
    return dict(
        httpx.get(f"{base}/v1/jobs/{reply.json()['id']}/clips", headers=_auth(platform), timeout=30).json()
    )


def test_a_real_model_reranks_the_clips_and_explains_itself(
    tmp_path_factory: pytest.TempPathFactory, llm_url: str, talk: Path
) -> None:
    platform = _platform(tmp_path_factory, llm_url)
    try:
        manifest = _clip_job(platform, talk)
    finally:
        stop_platform(platform)
    assert manifest["ranker"] == f"built-in + llm ({MODEL_ALIAS})", manifest["warnings"]
    assert manifest["warnings"] == []
    judged = [c for c in manifest["clips"] if "llm" in c["score"]["components"]]
    assert judged, manifest["clips"]
    for clip in judged:
        score = clip["score"]
        assert score["weights"]["llm"] == pytest.approx(0.5)
        assert sum(score["weights"].values()) == pytest.approx(1.0, abs=1e-3)
        total = 100 * sum(score["weights"][k] * score["components"][k] for k in score["weights"])
        assert score["total"] == pytest.approx(total, abs=0.2)
        assert any(r.startswith("llm: ") for r in score["reasons"]), score["reasons"]
    totals = [c["score"]["total"] for c in manifest["clips"]]
    assert totals == sorted(totals, reverse=True)


def test_with_the_endpoint_down_the_job_falls_back_with_a_warning(
    tmp_path_factory: pytest.TempPathFactory, talk: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    platform = _platform(tmp_path_factory, down)
    try:
        manifest = _clip_job(platform, talk)
    finally:
        stop_platform(platform)
    assert manifest["ranker"] == "built-in"
    assert len(manifest["clips"]) == 2
    assert all("llm" not in c["score"]["components"] for c in manifest["clips"])
    assert len(manifest["warnings"]) == 1
    assert manifest["warnings"][0].startswith("the LLM ranker was not used (")
    assert down in manifest["warnings"][0]
