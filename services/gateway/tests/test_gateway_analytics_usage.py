"""Usage, throughput, latency, failures and reports through the gateway: real dedup jobs run by the real
worker, their events ingested by the real ingester, queried over gRPC, scoped by API key."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from analytics_svc.queries import UsageQueries
from analytics_svc.report_store import ReportStore
from analytics_svc.reports import ReportRenderer
from analytics_svc.scheduler import ReportScheduler
from clipsift_common.db import open_pool
from clipsift_common.objectstore import ObjectBlobStore
from gateway_svc.settings import GatewaySettings

pytestmark = pytest.mark.integration


async def _run(platform, who: str, texts: list[str]) -> str:  # type: ignore[no-untyped-def]
    body = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)).encode()
    response = await platform.submit(who, body, "application/jsonl")
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    await platform.wait_job(job_id, who)
    return job_id


async def _get(platform, who: str, path: str, **params: str):  # type: ignore[no-untyped-def]
    return await platform.client.get(f"/v1/analytics/{path}", params=params, headers=platform.auth(who))


@pytest.fixture
async def finished(platform, corpus, eventually) -> dict[str, str]:
    """acme: a 2-document job; globex: a 3-document job and a failed one; all folded into analytics."""
    jobs = {
        "acme": await _run(platform, "acme", [corpus.original, corpus.near_copy]),
        "globex": await _run(platform, "globex", [corpus.other, corpus.other_copy, corpus.unrelated]),
        "globex-failed": await _run(platform, "globex", ["?!?"]),
    }

    async def folded() -> bool:
        rows = (await _get(platform, "ops", "usage", tenant="*", bucket="all")).json()["rows"]
        return sum(r["jobs_finished"] for r in rows) == 3

    await eventually(folded, what="every job folded into analytics_jobs")
    return jobs


async def test_usage_is_scoped_to_the_callers_tenant(platform, finished):
    response = await _get(platform, "acme", "usage")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bucket"] == "day"
    assert [
        (r["tenant_id"], r["jobs_completed"], r["jobs_failed"], r["documents"]) for r in body["rows"]
    ] == [("acme", 1, 0, 2)]
    bucket = datetime.fromisoformat(body["rows"][0]["bucket"])
    assert bucket == datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    assert (await _get(platform, "acme", "usage", tenant="globex")).status_code == 403
    assert (await _get(platform, "acme", "usage", tenant="*")).status_code == 403
    everyone = (await _get(platform, "ops", "usage", tenant="*", bucket="all")).json()["rows"]
    assert sorted(
        (r["tenant_id"], r["jobs_completed"], r["jobs_failed"], r["documents"]) for r in everyone
    ) == [
        ("acme", 1, 0, 2),
        ("globex", 1, 1, 3),
    ]


async def test_latency_throughput_and_failures(platform, finished):
    latency = (await _get(platform, "globex", "latency", bucket="all", kind="dedup")).json()["rows"]
    steps = [row["step"] for row in latency]
    assert steps[0] == "queue"
    assert steps[-1] == "total"
    assert {"parse", "store"} <= set(steps), steps  # the dedup job's own steps, timed from its events
    # The worker's progress events carry the time since the attempt started: steps are timed from it.
    async with await psycopg.AsyncConnection.connect(platform.database_url) as conn:
        cur = await conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE (payload ->> 'elapsed_seconds')::float8 >= 0) "
            "FROM job_events WHERE type = 'progress'"
        )
        progress, timed = await cur.fetchone()  # type: ignore[misc]
    assert progress > 0
    assert timed == progress
    total = latency[-1]
    assert total["samples"] == 1
    assert 0 < total["p50_seconds"] == total["p99_seconds"] < 30

    throughput = (await _get(platform, "globex", "throughput", bucket="hour")).json()["rows"]
    assert [(r["job_kind"], r["jobs_completed"], r["jobs_failed"]) for r in throughput] == [("dedup", 1, 1)]
    assert throughput[0]["jobs_per_hour"] > 0

    failures = (await _get(platform, "globex", "failures")).json()["rows"]
    assert len(failures) == 1
    assert failures[0]["jobs"] == 1
    assert failures[0]["example_job_id"] == finished["globex-failed"]
    assert (await _get(platform, "acme", "failures")).json()["rows"] == []


async def test_reports_on_demand(platform, finished):
    response = await _get(platform, "globex", "report", format="csv", dataset="usage", bucket="all")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="clipsift-globex-')
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["tenant_id"], row["jobs_completed"], row["jobs_failed"], row["documents"]) == (
        "globex",
        "1",
        "1",
        "3",
    )

    html = await _get(platform, "ops", "report", format="html", tenant="*", bucket="hour")
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text.count("<svg ") == 4
    assert "<td>acme</td>" in html.text
    assert "<td>globex</td>" in html.text
    assert (await _get(platform, "acme", "report", format="pdf")).status_code == 422
    bad = await _get(platform, "acme", "report", format="html", dataset="usage")
    assert bad.status_code == 400
    assert "csv reports only" in bad.json()["detail"]


async def test_scheduled_reports_are_listed_and_downloaded_per_tenant(platform, finished):
    settings: GatewaySettings = platform.settings
    pool = await open_pool(settings)
    try:
        usage = UsageQueries(pool)
        scheduler = ReportScheduler(
            pool,
            ReportRenderer(usage),
            ReportStore(pool, ObjectBlobStore(f"file://{platform.blob_dir}")),
            interval=timedelta(hours=1),
            bucket="hour",
            formats=("html", "csv"),
            check_every=60,
        )
        # The hour the jobs finished in is over one hour from now.
        stored = await scheduler.run_due(datetime.now(UTC) + timedelta(hours=1))
    finally:
        await pool.close()
    assert sorted({s.tenant_id for s in stored}) == ["", "acme", "globex"]

    listed = (await _get(platform, "acme", "reports")).json()["reports"]
    assert sorted(r["format"] for r in listed) == ["csv", "html"]
    assert {r["tenant_id"] for r in listed} == {"acme"}
    html = next(r for r in listed if r["format"] == "html")
    download = await platform.client.get(html["url"], headers=platform.auth("acme"))
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/html; charset=utf-8"
    assert len(download.content) == html["size_bytes"]
    assert "<td>acme</td>" in download.text
    assert "<td>globex</td>" not in download.text

    assert (await platform.client.get(html["url"], headers=platform.auth("globex"))).status_code == 404
    assert (await platform.client.get(html["url"], headers=platform.auth("ops"))).status_code == 200
    assert (await _get(platform, "acme", "reports", tenant="*")).status_code == 403
    every = (await _get(platform, "ops", "reports", tenant="*")).json()["reports"]
    assert sorted({r["tenant_id"] for r in every}) == ["", "acme", "globex"]


async def test_bad_parameters_are_client_errors(platform):
    naive = await _get(platform, "acme", "usage", since="2026-01-01T00:00:00")
    assert naive.status_code == 400
    assert naive.json()["detail"] == "since needs a timezone, e.g. 2026-01-01T00:00:00Z"
    wide = await _get(platform, "acme", "usage", since="2000-01-01T00:00:00Z", bucket="hour")
    assert wide.status_code == 400
    assert "use a wider bucket or a shorter range" in wide.json()["detail"]
    assert (await _get(platform, "acme", "usage", bucket="minute")).status_code == 422
    assert (
        await _get(platform, "acme", "latency", until="2000-01-01T00:00:00Z", since="2001-01-01T00:00:00Z")
    ).status_code == 400
