"""Clips in the speaker's language: Spanish and German talks are detected, transcribed, judged
and captioned in that language by the default (multilingual) model; a story beats the
keyword-stuffed housekeeping around it; range and resolution options shape the output."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from clipsift_testing.talk import build_talk_video

from .conftest import Platform
from .test_clips_e2e import _auth, ffprobe, follow, srt_cues, upload

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

HOUSEKEEPING = {
    "es": [
        "Hola a todos, ¿pueden ver mi pantalla? Voy a compartir las diapositivas ahora mismo.",
        "Lo más importante primero: nunca olviden que el mejor secreto de la agenda es la pausa de las diez.",
    ],
    "de": [
        "Hallo zusammen, können alle meinen Bildschirm sehen? Ich teile jetzt die Folien.",
        "Das Wichtigste zuerst: vergessen Sie niemals, das beste Geheimnis der Agenda ist die Pause um zehn.",
    ],
}
STORY = {
    "es": [
        "En dos mil quince mi abuelo Tomás vendió su granja en Galicia y compró un barco viejo.",
        "El primer invierno perdió casi todo en una tormenta frente a la costa.",
        "Dos años después pescaba atún en Cádiz y daba trabajo a seis vecinos del pueblo.",
    ],
    "de": [
        "Im Sommer neunzehnhundertachtundneunzig fuhr meine Mutter mit dem Fahrrad von Hamburg nach Wien.",
        "Nach drei Wochen kam sie mit einer gebrochenen Hand in Linz an.",
        "Ein Arzt behandelte sie umsonst, und zwanzig Jahre später besuchte sie ihn noch jedes Jahr.",
    ],
}
# Words that only the language in question has, among those spoken.
NATIVE = {
    "es": {
        "mi",
        "abuelo",
        "vendió",
        "granja",
        "barco",
        "invierno",
        "perdió",
        "años",
        "después",
        "pueblo",
        "pantalla",
    },
    "de": {
        "meine",
        "mutter",
        "fahrrad",
        "nach",
        "wochen",
        "gebrochenen",
        "hand",
        "jahre",
        "später",
        "bildschirm",
    },
}
VOICES = {"es": "es", "de": "de"}


@pytest.fixture(scope="module")
def talks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        language: build_talk_video(
            tmp_path_factory.mktemp(f"talk-{language}"),
            script=[*HOUSEKEEPING[language], *STORY[language]],
            voice=VOICES[language],
        )
        for language in ("es", "de")
    }


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def _clips(platform: Platform, job_id: str) -> dict:
    base = platform.runtime["gateway_url"]
    return dict(httpx.get(f"{base}/v1/jobs/{job_id}/clips", headers=_auth(platform), timeout=30).json())


@pytest.mark.parametrize("language", ["es", "de"])
def test_a_talk_is_clipped_and_captioned_in_its_own_language(
    clip_platform: Platform, talks: dict[str, Path], tmp_path: Path, language: str
) -> None:
    reply = upload(clip_platform, talks[language], "count=1&min_seconds=8&max_seconds=25")
    assert reply.status_code == 202, reply.text
    events = follow(clip_platform, reply.json()["id"])
    assert events[-1]["type"] == "completed", events[-1]
    manifest = _clips(clip_platform, reply.json()["id"])
    assert manifest["language"] == language
    assert manifest["language_probability"] > 0.5
    assert manifest["warnings"] == []
    clip = manifest["clips"][0]
    # The story wins over the housekeeping stuffed with "lo más importante", "nunca", "secreto".
    spoken = set(_words(clip["transcript"]))
    assert spoken & set(_words(" ".join(STORY[language]))), clip["transcript"]
    assert not spoken & {"pantalla", "diapositivas", "bildschirm", "folien"}, clip["transcript"]
    assert any("concrete details" in r for r in clip["score"]["reasons"]), clip["score"]["reasons"]

    base = clip_platform.runtime["gateway_url"]
    srt = httpx.get(f"{base}{clip['urls']['clip.srt']}", headers=_auth(clip_platform), timeout=30)
    caption_words = _words(" ".join(text for _, _, text in srt_cues(srt.text)))
    assert caption_words == _words(clip["transcript"])
    native = [w for w in caption_words if w in NATIVE[language]]
    assert len(native) >= 3, caption_words


def test_range_and_resolution_shape_the_clips(
    clip_platform: Platform, talks: dict[str, Path], tmp_path: Path
) -> None:
    reply = upload(
        clip_platform,
        talks["es"],
        "count=1&min_seconds=6&max_seconds=20&range=0:10-0:40&aspect=1:1&resolution=320x320&language=es",
    )
    assert reply.status_code == 202, reply.text
    events = follow(clip_platform, reply.json()["id"])
    assert events[-1]["type"] == "completed", events[-1]
    manifest = _clips(clip_platform, reply.json()["id"])
    assert (manifest["language"], manifest["language_detected"]) == ("es", False)
    clip = manifest["clips"][0]
    assert clip["start"] >= 10.0
    assert clip["end"] <= 40.0
    target = tmp_path / "clip.mp4"
    base = clip_platform.runtime["gateway_url"]
    target.write_bytes(
        httpx.get(f"{base}{clip['urls']['clip.mp4']}", headers=_auth(clip_platform), timeout=60).content
    )
    video = next(s for s in ffprobe(target)["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (320, 320)


def test_a_language_the_model_cannot_transcribe_fails_the_job_naming_it(
    clip_platform: Platform, talks: dict[str, Path]
) -> None:
    reply = upload(clip_platform, talks["de"], "count=1&min_seconds=8&max_seconds=25&language=xx")
    assert reply.status_code == 202, reply.text
    events = follow(clip_platform, reply.json()["id"])
    assert events[-1]["type"] == "failed", events[-1]
    assert "cannot transcribe language 'xx'" in events[-1]["message"], events[-1]


def test_against_index_drops_a_clip_the_tenant_already_posted(
    clip_platform: Platform, talks: dict[str, Path]
) -> None:
    # First pass: the best clip of the Spanish talk, posted, its transcript added to the tenant's index.
    query = "count=1&min_seconds=8&max_seconds=25"
    first = upload(clip_platform, talks["es"], query)
    assert follow(clip_platform, first.json()["id"])[-1]["type"] == "completed"
    posted = _clips(clip_platform, first.json()["id"])["clips"][0]
    base = clip_platform.runtime["gateway_url"]
    added = httpx.post(
        f"{base}/v1/indexes/posted/documents",
        json={"documents": [{"id": "tiktok/abuelo", "text": posted["transcript"], "title": posted["title"]}]},
        headers=_auth(clip_platform),
        timeout=60,
    )
    assert added.status_code == 200, added.text

    # Second pass with against_index: that clip is dropped, with the reason; another one is made.
    reply = upload(clip_platform, talks["es"], f"{query}&against_index=true")
    assert reply.status_code == 202, reply.text
    events = follow(clip_platform, reply.json()["id"])
    assert events[-1]["type"] == "completed", events[-1]
    manifest = _clips(clip_platform, reply.json()["id"])
    dropped = manifest["repeats_dropped"]
    assert [(d["start"], d["end"]) for d in dropped] == [(posted["start"], posted["end"])]
    assert "of its words match 'tiktok/abuelo'" in dropped[0]["reason"]
    assert "in text index 'posted'" in dropped[0]["reason"]
    clip = manifest["clips"][0]
    shared = min(clip["end"], posted["end"]) - max(clip["start"], posted["start"])
    assert shared <= 0.5 * (clip["end"] - clip["start"]), (clip["start"], clip["end"])
    assert manifest["warnings"] == []
