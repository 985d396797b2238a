"""Training end to end through the public API: upload a dataset, follow the job's progress
(epoch, step, loss), read the metrics, deploy, classify held-out texts, roll back, undeploy; and
the bad datasets a user sends, refused with a 400 that says what is wrong and nothing queued."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from .conftest import DATA, ModelsPlatform, read_examples

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CSV = "text/csv"
JSONL = "application/jsonl"


async def _events(platform: ModelsPlatform, job_id: str, who: str) -> list[dict[str, Any]]:
    url = f"ws://{platform.live_url}/v1/jobs/{job_id}/events"
    events = []
    async with connect(url, additional_headers=platform.auth(who)) as ws:
        async for raw in ws:
            events.append(json.loads(raw))
    return events


async def _predict(platform: ModelsPlatform, who: str, name: str, texts: list[str]) -> Any:
    return await platform.client.post(
        f"/v1/models/{name}/predict", json={"texts": texts}, headers=platform.auth(who)
    )


async def _until_version(platform: ModelsPlatform, name: str, version: int, text: str) -> dict[str, Any]:
    """Predict until the text service serves ``version`` (deploy notices travel asynchronously)."""
    for _ in range(100):
        reply = await _predict(platform, "acme", name, [text])
        if reply.status_code == 200 and reply.json()["version"] == version:
            return dict(reply.json())
        await asyncio.sleep(0.1)
    pytest.fail(f"model {name} never served version {version}: {reply.status_code} {reply.text}")


async def test_train_follow_deploy_predict_rollback(models_platform: ModelsPlatform) -> None:
    platform = models_platform
    dataset = (DATA / "topics.csv").read_bytes()
    submitted = await platform.train("acme", "topics", dataset, CSV)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["kind"] == "train"
    assert job["options"]["classes"] == {"computing": 12, "cooking": 12, "sport": 12}
    assert "input_key" not in job["options"]

    events = await _events(platform, job["id"], "acme")
    assert events[-1]["type"] == "completed", events[-1]
    steps = [e for e in events if e["step"] == "train"]
    assert steps, [e["step"] for e in events]
    details = steps[-1]["payload"]
    # 30 training examples (10 of each class, 2 of each held out), batches of 8, two epochs.
    assert details["epochs"] == 2
    assert details["total_steps"] == 8
    assert details["epoch"] == 2
    assert details["step"] == 8
    assert details["loss"] > 0
    fractions = [e["progress"] for e in events]
    assert fractions == sorted(fractions)
    assert [e["step"] for e in events if e["type"] == "progress"][-1] == "store"

    final = await platform.wait_job(job["id"], "acme")
    assert final["status"] == "completed"
    assert final["summary"]["version"] == 1
    result = (await platform.client.get(f"/v1/jobs/{job['id']}/result", headers=platform.auth("acme"))).json()
    metrics = result["metrics"]
    assert result["validation_examples"] == 6
    assert result["train_examples"] == 30
    assert set(metrics["per_class"]) == {"computing", "cooking", "sport"}
    assert sum(map(sum, metrics["confusion_matrix"])) == 6
    assert 0 <= metrics["macro_f1"] <= 1
    assert len(metrics["epoch_losses"]) == 2
    assert result["dataset_sha256"] == job["options"]["dataset_sha256"]

    models = (await platform.client.get("/v1/models", headers=platform.auth("acme"))).json()["models"]
    assert [(m["name"], m["versions"], m["deployed_version"]) for m in models] == [("topics", 1, 0)]
    # Not deployed yet: nothing to predict with.
    assert (await _predict(platform, "acme", "topics", ["hello"])).status_code == 404

    deployed = await platform.client.post("/v1/models/topics/deploy", headers=platform.auth("acme"))
    assert deployed.status_code == 200, deployed.text
    assert deployed.json()["version"] == 1
    held_out = read_examples(DATA / "heldout.csv")
    reply = await _predict(platform, "acme", "topics", [e.text for e in held_out])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == "topics"
    assert body["version"] == 1
    predicted = [p["label"] for p in body["predictions"]]
    accuracy = sum(p == e.label for p, e in zip(predicted, held_out, strict=True)) / len(held_out)
    assert accuracy > 2 / 3, f"held-out accuracy {accuracy:.2f} (chance is 1/3): {predicted}"
    first = body["predictions"][0]
    assert {s["label"] for s in first["scores"]} == {"computing", "cooking", "sport"}
    assert sum(s["score"] for s in first["scores"]) == pytest.approx(1.0, abs=1e-4)

    # Another tenant sees neither the model nor its predictions.
    assert (await platform.client.get("/v1/models", headers=platform.auth("globex"))).json()["models"] == []
    assert (
        await platform.client.get("/v1/models/topics", headers=platform.auth("globex"))
    ).status_code == 404
    assert (await _predict(platform, "globex", "topics", ["hello"])).status_code == 404
    deploy_other = await platform.client.post("/v1/models/topics/deploy", headers=platform.auth("globex"))
    assert deploy_other.status_code == 404

    # A second version (same data, another seed), deployed, then rolled back to the first.
    second = await platform.train("acme", "topics", dataset, CSV, seed=7)
    assert second.status_code == 202, second.text
    assert (await platform.wait_job(second.json()["id"], "acme"))["summary"]["version"] == 2
    await platform.client.post("/v1/models/topics/deploy", headers=platform.auth("acme"))
    await _until_version(platform, "topics", 2, held_out[0].text)
    rolled = await platform.client.post("/v1/models/topics/rollback", headers=platform.auth("acme"))
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["version"], rolled.json()["previous_version"]) == (1, 2)
    await _until_version(platform, "topics", 1, held_out[0].text)
    versions = (await platform.client.get("/v1/models/topics", headers=platform.auth("acme"))).json()
    assert versions["deployed_version"] == 1
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    one = await platform.client.get("/v1/models/topics/versions/2", headers=platform.auth("acme"))
    assert one.json()["params"]["seed"] == 7

    undeployed = await platform.client.post("/v1/models/topics/undeploy", headers=platform.auth("acme"))
    assert undeployed.status_code == 200
    assert undeployed.json()["version"] == 0
    for _ in range(100):
        if (await _predict(platform, "acme", "topics", ["hello"])).status_code == 404:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the undeployed model is still served")
    again = await platform.client.post("/v1/models/topics/undeploy", headers=platform.auth("acme"))
    assert again.status_code == 400
    assert "not deployed" in again.json()["detail"]


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def _rows(per_class: int, labels: tuple[str, ...] = ("a", "b")) -> list[dict[str, Any]]:
    return [{"text": f"example {i} of {label}", "label": label} for label in labels for i in range(per_class)]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"text,label\nhello,a\n,b\nbye,\n\nworld,a\n",
            CSV,
            "line 3: empty text; line 4: empty label; line 5: empty row",
        ),
        (_jsonl(_rows(6, ("only",))), JSONL, "a single class ('only')"),
        (b"text,label,source\nhello,a,web\n", CSV, "unknown 'source'"),
        (_jsonl([{"text": "hello", "label": "a", "lang": "en"}]), JSONL, "line 1: unknown 'lang'"),
        (_jsonl([{"body": "hello", "label": "a"}]), JSONL, "unknown 'body' and missing 'text'"),
        (_jsonl(_rows(6, ("a", "b")) + _rows(2, ("c",))), JSONL, "too few examples per class: 'c' has 2"),
        (b"\xff\xfe not utf-8", CSV, "not UTF-8"),
        (b"   \n\n", CSV, "the dataset is empty"),
        (b"text,label\nhello,a\n", "application/pdf", "unsupported dataset type 'application/pdf'"),
    ],
    ids=[
        "empty-rows",
        "single-class",
        "unknown-csv-column",
        "unknown-jsonl-key",
        "missing-column",
        "too-few-per-class",
        "not-utf8",
        "empty-file",
        "wrong-type",
    ],
)
async def test_bad_datasets_are_refused_with_the_reason(
    models_platform: ModelsPlatform, body: bytes, content_type: str, message: str
) -> None:
    reply = await models_platform.train("acme", "topics", body, content_type)
    assert reply.status_code == 400, reply.text
    assert message in reply.json()["detail"]
    assert await models_platform.job_rows() == 0
    # Nothing of the refused upload is kept.
    tenants = models_platform.blob_dir / "tenants"  # every job's blobs lie under its tenant's prefix
    assert not tenants.exists() or not any(p.is_file() for p in tenants.rglob("*"))


async def test_bad_names_and_options_are_refused(models_platform: ModelsPlatform) -> None:
    body = (DATA / "topics.csv").read_bytes()
    bad_name = await models_platform.train("acme", "Topics!", body, CSV)
    assert bad_name.status_code == 422
    bad_epochs = await models_platform.train("acme", "topics", body, CSV, epochs=0)
    assert bad_epochs.status_code == 422
    assert await models_platform.job_rows() == 0
