"""Analytics through the gateway: the job events the real ingester stored, scoped to the caller."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


async def _finished_job(platform, who: str, texts: list[str]) -> str:  # type: ignore[no-untyped-def]
    body = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)).encode()
    response = await platform.submit(who, body, "application/jsonl")
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    await platform.wait_job(job_id, who)
    return job_id


async def _summary(platform, who: str, **params: str):  # type: ignore[no-untyped-def]
    return await platform.client.get("/v1/analytics/summary", params=params, headers=platform.auth(who))


@pytest.fixture
async def two_tenants(platform, corpus, eventually) -> dict[str, str]:
    """acme: one completed job; globex: one completed and one failed job, all ingested."""
    jobs = {
        "acme": await _finished_job(platform, "acme", [corpus.original, corpus.near_copy]),
        "globex": await _finished_job(
            platform, "globex", [corpus.other, corpus.other_copy, corpus.unrelated]
        ),
        "globex-failed": await _finished_job(platform, "globex", ["?!?"]),
    }

    async def ingested() -> bool:
        body = (await _summary(platform, "ops", tenant="*")).json()
        return {(r["tenant_id"], r["status"]) for r in body["rows"]} == {
            ("acme", "completed"),
            ("globex", "completed"),
            ("globex", "failed"),
        }

    await eventually(ingested, what="terminal events of every job in analytics")
    return jobs


async def test_summary_shows_the_tenants_completed_job_and_nobody_elses(platform, two_tenants):
    response = await _summary(platform, "acme")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["tenant_id"], r["job_kind"], r["status"], r["jobs"]) for r in body["rows"]] == [
        ("acme", "dedup", "completed", 1)
    ]
    [row] = body["rows"]
    # requested, several progress events, completed; all of them counted, as integers.
    assert isinstance(row["events"], int)
    assert row["events"] >= 4
    assert body["total_jobs"] == 1
    assert body["total_events"] == row["events"]

    globex = (await _summary(platform, "globex")).json()
    assert {r["tenant_id"] for r in globex["rows"]} == {"globex"}
    assert {(r["status"], r["jobs"]) for r in globex["rows"]} == {("completed", 1), ("failed", 1)}
    assert globex["total_jobs"] == 2

    # The caller naming itself is allowed and changes nothing.
    assert (await _summary(platform, "acme", tenant="acme")).json() == body


async def test_summary_filters_pass_through(platform, two_tenants):
    failed = (await _summary(platform, "globex", status="failed")).json()
    assert [(r["status"], r["jobs"]) for r in failed["rows"]] == [("failed", 1)]
    assert (await _summary(platform, "globex", kind="video")).json()["rows"] == []
    future = (await _summary(platform, "acme", since="2999-01-01T00:00:00Z")).json()
    assert future == {"rows": [], "total_jobs": 0, "total_events": 0}
    past = (await _summary(platform, "acme", until="2000-01-01T00:00:00+00:00")).json()
    assert past["total_jobs"] == 0
    window = (
        await _summary(platform, "acme", since="2000-01-01T00:00:00Z", until="2999-01-01T00:00:00Z")
    ).json()
    assert window["total_jobs"] == 1


async def test_only_admin_keys_may_read_other_tenants(platform, two_tenants):
    for tenant in ("globex", "*", ""):
        response = await _summary(platform, "acme", tenant=tenant)
        assert response.status_code == 403, tenant
        assert response.json() == {"detail": "only admin keys may query another tenant"}

    everyone = (await _summary(platform, "ops", tenant="*")).json()
    assert {r["tenant_id"] for r in everyone["rows"]} == {"acme", "globex"}
    assert everyone["total_jobs"] == 3
    one = (await _summary(platform, "ops", tenant="globex")).json()
    assert {r["tenant_id"] for r in one["rows"]} == {"globex"}
    own = (await _summary(platform, "ops")).json()
    assert own["rows"] == []  # the admin's own tenant ran nothing


async def test_bad_summary_parameters_are_client_errors(platform):
    naive = await _summary(platform, "acme", since="2026-01-01T00:00:00")
    assert naive.status_code == 400
    assert naive.json()["detail"] == "since needs a timezone, e.g. 2026-01-01T00:00:00Z"

    backwards = await _summary(platform, "acme", since="2026-02-01T00:00:00Z", until="2026-01-01T00:00:00Z")
    assert backwards.status_code == 400
    assert backwards.json()["detail"] == "since must be before until"

    for params in ({"status": "done"}, {"since": "yesterday"}, {"kind": "k" * 65}):
        assert (await _summary(platform, "acme", **params)).status_code == 422, params
