"""POST /v1/text/analyze through the gateway to the real text process's analysis service."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

TEXT = (
    "Barack Obama gave a wonderful speech in Paris. "
    "The audience loved it, and the newspapers praised the speech the next morning."
)


async def test_analyze_returns_every_part(platform):
    response = await platform.client.post(
        "/v1/text/analyze", json={"text": TEXT}, headers=platform.auth("acme")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"]["language"] == "en"
    assert body["language"]["from_hint"] is False
    assert body["sentiment"]["compound"] > 0.5
    assert "English-only" in body["sentiment"]["sentiment_model"]
    assert any("speech" in k["keyword"].lower() for k in body["keywords"])
    assert body["readability"]["sentences"] == 2
    assert body["readability"]["words"] == 21
    assert {"text": "Barack Obama", "label": "PERSON", "start": 0, "end": 12} in body["entities"]
    for entity in body["entities"]:
        assert TEXT[entity["start"] : entity["end"]] == entity["text"]
    assert body["entities_supported"] is True
    assert set(body["models"]) == {"language", "sentiment", "keywords", "readability", "entities"}


async def test_analyze_with_a_language_hint(platform):
    text = "Le chat dort sur le canapé et le chien joue dans le jardin."
    response = await platform.client.post(
        "/v1/text/analyze", json={"text": text, "language": "fr"}, headers=platform.auth("acme")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["language"]["language"], body["language"]["from_hint"]) == ("fr", True)
    assert body["entities_supported"] is False
    assert body["entities"] == []


@pytest.mark.parametrize("text", ["", "   ", "?!"])
async def test_analyze_empty_is_400(platform, text):
    response = await platform.client.post(
        "/v1/text/analyze", json={"text": text}, headers=platform.auth("acme")
    )
    assert response.status_code == 400, response.text


async def test_analyze_unknown_language_is_400(platform):
    response = await platform.client.post(
        "/v1/text/analyze", json={"text": TEXT, "language": "qq"}, headers=platform.auth("acme")
    )
    assert response.status_code == 400, response.text
    assert "'qq'" in response.text


async def test_analyze_needs_a_key(platform):
    response = await platform.client.post("/v1/text/analyze", json={"text": TEXT})
    assert response.status_code == 401
