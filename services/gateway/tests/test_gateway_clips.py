"""Clip submissions: the request options users expect (range, durations, resolution, genre,
prompt, topic keywords, language) are checked before a job exists; a bad value is a 400 that
names the option and what is wrong with it, and nothing is kept."""

from __future__ import annotations

import shutil

import pytest
from clipsift_testing.media import ffmpeg

pytestmark = [pytest.mark.integration, pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg")]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """20 s of picture and sound: enough for the video service to probe, no speech needed."""
    path = tmp_path_factory.mktemp("clips") / "talk.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=s=320x180:r=10:d=20"),
        *("-f", "lavfi", "-i", "sine=frequency=300:duration=20"),
        *("-pix_fmt", "yuv420p", "-shortest", str(path)),
    )
    return path.read_bytes()


async def _submit(platform, body: bytes, **params):
    return await platform.client.post(
        "/v1/clips",
        content=body,
        headers={**platform.auth("acme"), "Content-Type": "video/mp4"},
        params=params,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "90"}, "must be start-end"),
        ({"range": "5:00-1:00"}, "ends before it starts"),
        ({"range": "abc-10"}, "is not a time"),
        ({"range": "0-10", "min_seconds": 15}, "shorter than min_seconds"),
        ({"resolution": "1080x1080"}, "resolution 1080x1080 is not 9:16"),
        ({"resolution": "big"}, "must be WIDTHxHEIGHT"),
        ({"resolution": "7680x4320", "aspect": "16:9"}, "even sides of 240 to 3840"),
        ({"resolution": "1081x1921"}, "even sides"),
        ({"prompt": "find pricing\x00"}, "prompt contains control characters"),
        ({"prompt": "x" * 501}, "at most 500 characters"),
        ({"durations": "20,abc"}, "durations must be comma-separated seconds"),
        ({"durations": "5"}, "duration 5s lies outside"),
        ({"durations": "20,25,30,35,40"}, "durations"),
        ({"genre": "opera"}, "genre"),
        ({"topic_keywords": ",".join(f"k{i}" for i in range(21))}, "topic_keywords"),
        ({"topic_keywords": "x" * 41}, "must be 1 to 40 characters"),
        ({"language": "español"}, "not an ISO 639-1 code"),
    ],
)
async def test_bad_clip_options_are_refused_with_the_reason(platform, talk, params, message):
    response = await _submit(platform, talk, **params)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"], response.json()
    assert await platform.job_rows() == 0
    assert platform.leftover_files() == []


async def test_a_range_past_the_end_of_the_video_is_refused(platform, talk):
    response = await _submit(platform, talk, range="1:00-2:00")
    assert response.status_code == 400, response.text
    assert "starts at 60s but the video lasts 20s" in response.json()["detail"]
    assert await platform.job_rows() == 0
    assert platform.leftover_files() == []


async def test_good_clip_options_travel_with_the_job(platform, talk):
    response = await _submit(
        platform,
        talk,
        range="0:02-0:19",
        min_seconds=5,
        max_seconds=15,
        durations="8,12",
        aspect="1:1",
        resolution="720x720",
        genre="podcast",
        prompt="the guest talks about pricing",
        topic_keywords="pricing, discounts ,",
        language="es",
        against_index="true",
    )
    assert response.status_code == 202, response.text
    job = response.json()
    options = await platform.job_options(job["id"])
    assert (options["range_start"], options["range_end"]) == (2.0, 19.0)
    assert options["durations"] == [8.0, 12.0]
    assert (options["aspect"], options["resolution"], options["genre"]) == ("1:1", "720x720", "podcast")
    assert options["prompt"] == "the guest talks about pricing"
    assert options["topic_keywords"] == ["pricing", "discounts"]
    assert options["language"] == "es"
    assert options["against_index"] is True
