"""After real work, /metrics carries the series the platform-overview dashboard plots.

The platform runs the gateway, the text service with its dedup worker and analytics in one process
(one registry), so one scrape of the gateway's metrics port shows every component's samples.
The public HTTP port serves no /metrics.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


METRICS_PORT = _free_port()


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.mark.gateway(metrics_port=METRICS_PORT, http_host="127.0.0.1")
async def test_metrics_are_on_their_own_port_not_the_public_one(platform) -> None:
    assert platform.app.state.metrics_port == METRICS_PORT
    assert (await platform.client.get("/metrics")).status_code == 404
    async with httpx.AsyncClient() as scraper:
        response = await scraper.get(f"http://127.0.0.1:{METRICS_PORT}/metrics")
    assert response.status_code == 200
    assert "clipsift_http_requests_total" in response.text


@pytest.mark.gateway(metrics_port=METRICS_PORT, http_host="127.0.0.1")
async def test_metrics_show_jobs_consumers_grpc_and_http_after_real_work(
    platform, corpus, eventually: Callable[..., Awaitable[None]]
) -> None:
    scraper = httpx.AsyncClient(base_url=f"http://127.0.0.1:{METRICS_PORT}")
    documents = [{"id": "a", "text": corpus.original}, {"id": "b", "text": corpus.near_copy}]
    body = "".join(json.dumps(d) + "\n" for d in documents).encode()
    before = _samples((await scraper.get("/metrics")).text)
    job_id = (await platform.submit("acme", body, "application/jsonl")).json()["id"]
    assert (await platform.wait_job(job_id, "acme"))["status"] == "completed"
    compared = await platform.client.post(
        "/v1/text/similarity",
        json={"a": corpus.original, "b": corpus.near_copy},
        headers=platform.auth("acme"),
    )
    assert compared.status_code == 200, compared.text

    async def scrape() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        response = await scraper.get("/metrics")
        assert response.status_code == 200
        return _samples(response.text)

    async def backlog_drained() -> bool:
        # Each consumer's lag is polled (every 5 s by default): wait until the worker's shows 0.
        now = await scrape()
        return any(
            n == "clipsift_nats_consumer_pending" and ("consumer", "text-dedup") in ls for n, ls in now
        ) and (_value(now, "clipsift_nats_consumer_pending", consumer="text-dedup") == 0)

    await eventually(backlog_drained, within=15, what="the text-dedup consumer's lag gauge")
    after = await scrape()
    await scraper.aclose()

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("clipsift_jobs_finished_total", kind="dedup", outcome="completed") == 1
    assert grew("clipsift_jobs_started_total", kind="dedup") == 1
    assert grew("clipsift_job_duration_seconds_count", kind="dedup", outcome="completed") == 1
    assert grew("clipsift_job_step_seconds_count", kind="dedup", step="parse") == 1
    assert grew("clipsift_events_published_total", kind="dedup", type="requested") == 1
    assert grew("clipsift_events_published_total", kind="dedup", type="completed") == 1
    for consumer in ("text-dedup", "gateway-jobs", "analytics-events"):
        assert ("clipsift_nats_consumer_ack_pending", consumer) in {
            (n, dict(ls).get("consumer")) for n, ls in after
        }, consumer
    method = {"grpc_service": "clipsift.text.v1.TextService", "grpc_method": "Similarity"}
    assert grew("clipsift_grpc_server_handled_total", **method, grpc_code="OK") == 1
    assert grew("clipsift_grpc_server_handling_seconds_count", **method) == 1
    assert _value(after, "clipsift_grpc_server_in_flight", **method) == 0
    assert grew("clipsift_grpc_client_handled_total", grpc_method="Similarity", grpc_code="OK") == 1
    assert _value(after, "clipsift_circuit_breaker_state", target=platform.settings.text_target) == 0
    assert grew("clipsift_http_requests_total", method="POST", route="/v1/jobs", status="202") == 1
    assert _value(after, "process_cpu_seconds_total") > 0
