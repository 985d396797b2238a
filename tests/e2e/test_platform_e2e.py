"""The platform end to end through its public API, started by ``clipsift up``."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from websockets.sync.client import connect

from .conftest import Platform, start_platform, stop_platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

# Real texts from Debian's common licences, one per family, so no two originals are near-duplicates.
LICENCES = Path("/usr/share/common-licenses")
SOURCES = ["Apache-2.0", "Artistic", "CC0-1.0", "GFDL-1.3", "GPL-2", "MPL-2.0"]


def _perturb(text: str, seed: int, edits: int) -> str:
    """Deterministic word-level edits: drops, swaps and inserts."""
    rng = random.Random(seed)
    words = text.split()
    for _ in range(edits):
        i = rng.randrange(len(words) - 1)
        choice = rng.random()
        if choice < 0.4:
            del words[i]
        elif choice < 0.7:
            words[i], words[i + 1] = words[i + 1], words[i]
        else:
            words.insert(i, rng.choice(["indeed", "moreover", "notably", "however"]))
    return " ".join(words)


def corpus() -> tuple[list[dict[str, str]], list[set[str]]]:
    """Real licence texts nobody here wrote, each with two light perturbations; plus the truth."""
    texts = [(LICENCES / name).read_text(encoding="utf-8") for name in SOURCES]
    documents, groups = [], []
    for n, text in enumerate(texts):
        ids = {f"doc{n}/original", f"doc{n}/edit-a", f"doc{n}/edit-b"}
        documents += [
            {"id": f"doc{n}/original", "text": text},
            {"id": f"doc{n}/edit-a", "text": _perturb(text, seed=n, edits=3)},
            {"id": f"doc{n}/edit-b", "text": _perturb(text, seed=100 + n, edits=3)},
        ]
        groups.append(ids)
    documents.append(
        {"id": "unrelated", "text": "A short note about something else entirely, written for this test."}
    )
    return documents, groups


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def submit(base: str, key: str, documents: list[dict[str, str]]) -> dict[str, Any]:
    body = "".join(json.dumps(d) + "\n" for d in documents).encode()
    reply = httpx.post(
        f"{base}/v1/jobs?kind=dedup&threshold=0.8",
        content=body,
        headers={**_headers(key), "Content-Type": "application/jsonl"},
        timeout=60,
    )
    assert reply.status_code == 202, reply.text
    return dict(reply.json())


def follow(base: str, key: str, job_id: str) -> list[dict[str, Any]]:
    url = base.replace("http", "ws", 1) + f"/v1/jobs/{job_id}/events"
    with connect(url, additional_headers=_headers(key), open_timeout=10) as ws:
        return [json.loads(raw) for raw in ws]


def stored_event_ids(database_url: str, job_id: str, expected: int, timeout: float = 60) -> list[str]:
    """Event ids of the job in PostgreSQL, once analytics has caught up with ``expected`` events."""
    deadline = time.monotonic() + timeout
    rows: list[str] = []
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            rows = [
                r[0]
                for r in conn.execute("SELECT event_id::text FROM job_events WHERE job_id = %s", (job_id,))
            ]
        if len(rows) >= expected:
            return rows
        time.sleep(0.25)
    return rows


def check_corpus_job(platform: Platform) -> None:
    base = platform.runtime["gateway_url"]
    key = platform.cli("keys", "create", "--tenant", "acme").stdout.strip()
    assert key.startswith("cs_")
    documents, groups = corpus()
    job = submit(base, key, documents)
    assert job["status"] in {"queued", "running", "completed"}
    events = follow(base, key, job["id"])

    types = [e["type"] for e in events]
    assert types[0] == "requested", types
    assert types[-1] == "completed", types
    assert set(types[1:-1]) == {"progress"}
    progress = [e["progress"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0

    status = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=_headers(key), timeout=10).json()
    assert status["status"] == "completed"
    result = httpx.get(f"{base}{status['result_url']}", headers=_headers(key), timeout=10).json()
    assert result["documents"] == len(documents)
    assert sorted(sorted(c["document_ids"]) for c in result["clusters"]) == sorted(sorted(g) for g in groups)
    assert all(p["jaccard"] >= 0.8 for c in result["clusters"] for p in c["pairs"])

    # Every event the job produced is in PostgreSQL exactly once.
    event_ids = [e["event_id"] for e in events]
    assert len(set(event_ids)) == len(event_ids)
    stored = stored_event_ids(platform.runtime["database_url"], job["id"], len(event_ids))
    assert sorted(stored) == sorted(event_ids)

    # Another tenant cannot see the job.
    other = platform.cli("keys", "create", "--tenant", "globex").stdout.strip()
    assert httpx.get(f"{base}/v1/jobs/{job['id']}", headers=_headers(other), timeout=10).status_code == 404
    summary = httpx.get(f"{base}/v1/analytics/summary", headers=_headers(key), timeout=10).json()
    assert summary["rows"] == [
        {"tenant_id": "acme", "job_kind": "dedup", "status": "completed", "jobs": 1, "events": len(events)}
    ]


def test_corpus_job_on_embedded_infrastructure(embedded_platform: Platform) -> None:
    check_corpus_job(embedded_platform)
    services = embedded_platform.runtime["services"]
    assert stop_platform(embedded_platform) == 0
    for service in services.values():
        assert not psutil.pid_exists(service["pid"]) or psutil.Process(service["pid"]).status() == "zombie"
    assert not (embedded_platform.home / "runtime.json").exists()


def test_corpus_job_on_machine_services(external_platform: Platform) -> None:
    assert external_platform.runtime["nats_url"] == os.environ.get(
        "CLIPSIFT_TEST_NATS_URL", "nats://127.0.0.1:4222"
    )
    check_corpus_job(external_platform)


def test_cli_dedup_prints_clusters(embedded_platform: Platform, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    documents, groups = corpus()
    for doc in documents:
        path = folder / f"{doc['id'].replace('/', '-')}.txt"
        path.write_text(doc["text"], encoding="utf-8")
    run = embedded_platform.cli("dedup", str(folder), "--json", "--quiet")
    result = json.loads(run.stdout)
    expected = sorted(sorted(i.replace("/", "-") + ".txt" for i in group) for group in groups)
    assert sorted(sorted(c["document_ids"]) for c in result["clusters"]) == expected

    (folder / "binary.txt").write_bytes(b"\xff\xfe not utf-8")
    failed = embedded_platform.cli("dedup", str(folder), check=False)
    assert failed.returncode == 2
    assert "not UTF-8" in failed.stderr


def test_analytics_killed_mid_job_loses_and_duplicates_nothing(embedded_platform: Platform) -> None:
    platform = embedded_platform
    base, key = platform.runtime["gateway_url"], platform.runtime["api_key"]
    analytics_pid = platform.runtime["services"]["analytics"]["pid"]
    documents, _ = corpus()
    # A larger corpus so the job is still running when analytics dies.
    many = [{"id": f"{d['id']}#{copy}", "text": d["text"]} for copy in range(40) for d in documents]
    job = submit(base, key, many)
    os.kill(analytics_pid, signal.SIGKILL)
    events = follow(base, key, job["id"])
    assert events[-1]["type"] == "completed"

    deadline = time.monotonic() + 60
    while platform.runtime["services"]["analytics"]["pid"] == analytics_pid:
        assert time.monotonic() < deadline, "runner did not restart analytics"
        time.sleep(0.2)
    assert platform.runtime["services"]["analytics"]["restarts"] == 1

    event_ids = [e["event_id"] for e in events]
    stored = stored_event_ids(platform.runtime["database_url"], job["id"], len(event_ids))
    assert sorted(stored) == sorted(event_ids)
    with psycopg.connect(platform.runtime["database_url"]) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM job_events").fetchone()
    assert total == distinct


def test_cli_index_survives_a_platform_restart_with_pgvector(tmp_path: Path) -> None:
    """`clipsift index` on the embedded PostgreSQL 18 (pgvector): add, stop everything, start again
    on the same home, and the index answers near-duplicate and semantic queries."""
    env = {k: "" for k in ("CLIPSIFT_NATS_URL", "CLIPSIFT_DATABASE_URL")}
    folder = tmp_path / "site"
    folder.mkdir()
    licences = Path("/usr/share/common-licenses")
    for name in ("Apache-2.0", "BSD", "GPL-2"):
        (folder / f"{name}.txt").write_text((licences / name).read_text(), encoding="utf-8")
    (folder / "parks.txt").write_text(
        "The city council approved a new budget for public parks and playgrounds.", encoding="utf-8"
    )
    probe = tmp_path / "probe.txt"
    probe.write_text(" ".join((licences / "GPL-2").read_text().split()[5:]), encoding="utf-8")
    paraphrase = tmp_path / "paraphrase.txt"
    paraphrase.write_text("City officials passed funding for playgrounds and public parks.", encoding="utf-8")

    first = start_platform(tmp_path / "home", env)
    try:
        added = first.cli("index", "add", "site", str(folder), "--semantic", "--quiet")
        assert "index 'site': 4 added, 0 replaced, 4 documents in the index" in added.stdout
    finally:
        assert stop_platform(first) == 0
    second = start_platform(tmp_path / "home", env)
    try:
        listed = second.cli("index", "list").stdout
        assert listed.startswith("site  4 documents  semantic (pgvector)"), listed
        near = second.cli("index", "query", "site", str(probe), "--json").stdout
        assert [m["id"] for m in json.loads(near)["matches"]] == ["GPL-2.txt"]
        close = json.loads(
            second.cli(
                "index",
                "query",
                "site",
                str(paraphrase),
                "--semantic",
                "--semantic-threshold",
                "0.5",
                "--json",
            ).stdout
        )
        assert close["vector_backend"] == "pgvector"
        assert [m["id"] for m in close["semantic_matches"]] == ["parks.txt"]
    finally:
        assert stop_platform(second) == 0
