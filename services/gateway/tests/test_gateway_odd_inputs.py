"""Odd bytes and out-of-range numbers in parameters are the caller's error (4xx saying what is
wrong), never a server error further down: the cases a schema fuzzer found."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("who", ["acme", "ops"])
@pytest.mark.parametrize("param", ["kind", "tenant"])
async def test_control_characters_in_analytics_filters_are_422(platform, who, param):
    for path in ("/v1/analytics/failures", "/v1/analytics/usage", "/v1/analytics/summary"):
        response = await platform.client.get(path, params={param: "a\x00b"}, headers=platform.auth(who))
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", param]
        assert "must not contain control characters: '\\x00' at position 1" in error["msg"]


async def test_a_time_past_the_calendar_in_utc_is_400(platform):
    for until in ("9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+23:00"):
        response = await platform.client.get(
            "/v1/analytics/failures", params={"until": until}, headers=platform.auth("acme")
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith("until is out of range: ")


@pytest.mark.parametrize("route", ["deploy", "rollback"])
async def test_a_version_past_uint32_is_422(platform, route):
    response = await platform.client.post(
        f"/v1/models/abc/{route}", params={"version": 10_000_000_000_000}, headers=platform.auth("acme")
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "version"]
    huge = await platform.client.get("/v1/models/abc/versions/10000000000000", headers=platform.auth("acme"))
    assert huge.status_code == 422, huge.text


async def test_non_canonical_job_ids(platform):
    submitted = await platform.submit(
        "acme", b'{"id": "a", "text": "one two three four five six"}\n', "application/jsonl"
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    upper = await platform.client.get(f"/v1/jobs/{job_id.upper()}", headers=platform.auth("acme"))
    assert upper.status_code == 200, upper.text
    assert upper.json()["id"] == job_id
    junk = await platform.client.get(f"/v1/jobs/{uuid.uuid4()}x/clips", headers=platform.auth("acme"))
    assert junk.status_code == 404, junk.text
    long = await platform.client.get("/v1/jobs/" + "1" * 5000, headers=platform.auth("acme"))
    assert long.status_code == 422, long.text
    assert long.json()["detail"][0]["loc"] == ["path", "job_id"]
    for path in (f"/v1/jobs/{'1' * 100}/keyframes/1", f"/v1/jobs/{job_id}/clips/10000000000000/clip.mp4"):
        response = await platform.client.get(path, headers=platform.auth("acme"))
        assert response.status_code == 422, (path, response.text)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/videos/analyze", {"path": "/media/a\x00.mp4"}),
        ("/v1/videos/duplicates", {"paths": ["/a\x00", "/b"]}),
    ],
)
async def test_control_characters_in_server_paths_are_400(platform, path, body):
    response = await platform.client.post(path, json=body, headers=platform.auth("acme"))
    assert response.status_code == 400, response.text
    assert "must not contain control characters" in response.json()["detail"]
    assert await platform.job_rows() == 0


async def test_control_characters_in_path_and_query_names_are_422(platform):
    auth = platform.auth("acme")
    document = await platform.client.delete("/v1/indexes/abc/documents/a%00", headers=auth)
    assert document.status_code == 422, document.text
    language = await platform.client.post(
        "/v1/videos/analyze", params={"language": "\x01"}, json={"path": "/a.mp4"}, headers=auth
    )
    assert language.status_code == 422, language.text
    assert language.json()["detail"][0]["loc"] == ["query", "language"]
