"""/v1/indexes through the gateway to the real text service's IndexService and index job (real
PostgreSQL, NATS), CSV downloads, and the `clipsift index` / `clipsift dedup --csv` commands."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LICENSES = Path("/usr/share/common-licenses")
NAMES = ["Apache-2.0", "BSD", "GPL-2", "GPL-3", "MPL-2.0"]
TEXTS = {name: (LICENSES / name).read_text() for name in NAMES}


def _near(text: str, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = text.split()
    for _ in range(6):
        del words[rng.randrange(len(words))]
    return " ".join(words)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _add(platform, name: str, names: list[str], who: str = "acme", **extra: object):  # type: ignore[no-untyped-def]
    documents = [{"id": n, "text": TEXTS[n], "title": f"{n} licence"} for n in names]
    return await platform.client.post(
        f"/v1/indexes/{name}/documents", json={"documents": documents, **extra}, headers=platform.auth(who)
    )


async def _query(platform, name: str, body: dict[str, object], who: str = "acme", **params: str):  # type: ignore[no-untyped-def]
    return await platform.client.post(
        f"/v1/indexes/{name}/query", json=body, params=params, headers=platform.auth(who)
    )


async def test_add_query_list_delete_as_json_and_csv(platform):
    added = await _add(platform, "licences", NAMES)
    assert added.status_code == 200, added.text
    assert added.json() == {"added": 5, "replaced": 0, "documents": 5, "created": True}

    response = await _query(platform, "licences", {"text": _near(TEXTS["GPL-3"])})
    assert response.status_code == 200, response.text
    result = response.json()
    [match] = result["matches"]
    assert (match["id"], match["title"], match["exact"]) == ("GPL-3", "GPL-3 licence", False)
    assert 0.8 <= match["jaccard"] < 1.0

    as_csv = await _query(platform, "licences", {"text": TEXTS["BSD"]}, format="csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == 'attachment; filename="licences-query.csv"'
    assert _rows(as_csv.text) == [
        {
            "kind": "near_duplicate",
            "rank": "1",
            "id": "BSD",
            "title": "BSD licence",
            "jaccard": "1.0",
            "exact": "true",
            "cosine": "0.0",
        }
    ]
    by_accept = await platform.client.post(
        "/v1/indexes/licences/query",
        json={"text": TEXTS["BSD"]},
        headers={**platform.auth("acme"), "Accept": "text/csv"},
    )
    assert by_accept.text == as_csv.text

    listed = await platform.client.get("/v1/indexes", headers=platform.auth("acme"))
    [info] = listed.json()["indexes"]
    assert (info["name"], info["documents"], info["semantic"]) == ("licences", 5, False)

    removed = await platform.client.delete(
        "/v1/indexes/licences/documents/GPL-3", headers=platform.auth("acme")
    )
    assert removed.json() == {"documents": 4}
    gone = await _query(platform, "licences", {"text": TEXTS["GPL-3"]})
    assert gone.json()["matches"] == []
    deleted = await platform.client.delete("/v1/indexes/licences", headers=platform.auth("acme"))
    assert deleted.json() == {"deleted_documents": 4}
    missing = await platform.client.get("/v1/indexes/licences", headers=platform.auth("acme"))
    assert missing.status_code == 404


async def test_another_tenants_index_is_404(platform):
    assert (await _add(platform, "private", ["GPL-2"])).status_code == 200
    for method, path, body in (
        ("GET", "/v1/indexes/private", None),
        ("POST", "/v1/indexes/private/query", {"text": TEXTS["GPL-2"]}),
        ("POST", "/v1/indexes/private/compare", {"text": TEXTS["GPL-2"]}),
        ("DELETE", "/v1/indexes/private", None),
        ("DELETE", "/v1/indexes/private/documents/GPL-2", None),
    ):
        response = await platform.client.request(method, path, json=body, headers=platform.auth("globex"))
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"detail": "index 'private' not found"}
    assert (await platform.client.get("/v1/indexes", headers=platform.auth("globex"))).json() == {
        "indexes": []
    }
    still = await _query(platform, "private", {"text": TEXTS["GPL-2"]})
    assert [m["id"] for m in still.json()["matches"]] == ["GPL-2"]
    assert (await platform.client.get("/v1/indexes")).status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"documents": [{"id": "a", "text": ""}]}, 400, "document 'a' is empty"),
        ({"documents": [{"id": "a", "text": "\x00\x01binary\x00"}]}, 400, "looks like binary data"),
        ({"documents": [{"id": "a", "text": "word " * 500}]}, 413, "the limit is 2000"),
        ({"documents": []}, 400, "invalid request body"),
        ({"documents": [{"id": "a", "text": "ok"}, {"id": "a", "text": "ok"}]}, 400, "duplicate document id"),
    ],
    ids=["empty", "binary", "too-long", "none", "duplicate-id"],
)
@pytest.mark.gateway(max_request_text_chars=2000)
async def test_bad_documents_get_the_reason(platform, body, status, message):
    response = await platform.client.post(
        "/v1/indexes/news/documents", json=body, headers=platform.auth("acme")
    )
    assert response.status_code == status, response.text
    assert message in json.dumps(response.json()["detail"])
    assert (await platform.client.get("/v1/indexes", headers=platform.auth("acme"))).json() == {"indexes": []}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "some text", "threshold": 0}, "threshold must be in (0, 1], got 0"),
        ({"text": "some text", "threshold": 1.01}, "threshold must be in (0, 1], got 1.01"),
        ({"text": "some text", "semantic_threshold": -1}, "semantic_threshold must be in (0, 1], got -1"),
        ({"text": "   "}, "the query text is empty"),
    ],
)
async def test_bad_queries_are_400(platform, body, message):
    await _add(platform, "news", ["BSD"])
    response = await _query(platform, "news", body)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


async def test_bad_index_name_is_400_before_the_upload_is_kept(platform):
    response = await platform.client.post(
        "/v1/indexes/bad name!/documents",
        content=b'{"id": "a", "text": "hello"}\n',
        headers={**platform.auth("acme"), "Content-Type": "application/jsonl"},
    )
    assert response.status_code == 400, response.text
    assert "index name 'bad name!' must be" in response.json()["detail"]
    assert platform.leftover_files() == []
    assert await platform.job_rows() == 0


async def test_corpus_upload_becomes_an_index_job_with_progress(platform):
    body = "".join(json.dumps({"id": n, "text": TEXTS[n]}) + "\n" for n in NAMES).encode()
    submitted = await platform.client.post(
        "/v1/indexes/bulk/documents",
        content=body,
        headers={**platform.auth("acme"), "Content-Type": "application/jsonl"},
    )
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["kind"] == "index"
    assert job["options"] == {"documents": 5, "format": "jsonl", "index": "bulk", "semantic": False}
    done = await platform.wait_job(job["id"], "acme", within=60)
    assert done["status"] == "completed", done
    assert done["summary"] == {"index": "bulk", "added": 5, "replaced": 0, "documents": 5}
    response = await _query(platform, "bulk", {"text": _near(TEXTS["MPL-2.0"])})
    assert [m["id"] for m in response.json()["matches"]] == ["MPL-2.0"]
    # Batches of 2 documents (the fixture's setting): progress was reported per batch.
    events = await platform.client.get(f"/v1/jobs/{job['id']}", headers=platform.auth("acme"))
    assert events.json()["progress"] == 1.0


async def test_compare_against_the_index_as_json_and_html(platform):
    await _add(platform, "licences", NAMES)
    apache = TEXTS["Apache-2.0"]
    paragraph = apache[apache.index('"Derivative Works" shall mean') + 1 : apache.index("thereof.") + 7]
    text = f"A preface of ours.\n\n{paragraph}.\n\nAnd an ending of ours too."
    response = await platform.client.post(
        "/v1/indexes/licences/compare", json={"text": text}, headers=platform.auth("acme")
    )
    assert response.status_code == 200, response.text
    result = response.json()
    top = result["matches"][0]
    assert top["id"] == "Apache-2.0"
    assert "html" not in top["report"]
    [passage] = top["report"]["passages"]
    assert text[passage["a_start"] : passage["a_end"]] == paragraph
    assert apache[passage["b_start"] : passage["b_end"]] == paragraph
    page = await platform.client.post(
        "/v1/indexes/licences/compare",
        json={"text": text},
        params={"format": "html"},
        headers=platform.auth("acme"),
    )
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>")
    assert '<mark id="b1"' in page.text
    beyond = await platform.client.post(
        "/v1/indexes/licences/compare",
        json={"text": text},
        params={"format": "html", "match": 99},
        headers=platform.auth("acme"),
    )
    assert beyond.status_code == 404


async def test_semantic_index_over_rest(platform):
    documents = [
        {"id": "parks", "text": "The city council approved a new budget for public parks and playgrounds."},
        {"id": "snow", "text": "Heavy snow is expected across the northern mountains this weekend."},
    ]
    added = await platform.client.post(
        "/v1/indexes/stories/documents",
        json={"documents": documents, "semantic": True},
        headers=platform.auth("acme"),
    )
    assert added.status_code == 200, added.text
    response = await _query(
        platform,
        "stories",
        {
            "text": "City officials passed funding for playgrounds and public parks.",
            "semantic": True,
            "semantic_threshold": 0.5,
        },
        format="csv",
    )
    rows = _rows(response.text)
    assert [(r["kind"], r["id"]) for r in rows] == [("semantic", "parks")]
    assert 0.5 <= float(rows[0]["cosine"]) <= 1.0


async def test_duplicates_and_dedup_results_as_csv(platform, corpus):
    documents = [
        {"id": "=cmd", "text": corpus.original},
        {"id": "b", "text": corpus.near_copy},
        {"id": "c", "text": corpus.unrelated},
    ]
    response = await platform.client.post(
        "/v1/text/duplicates",
        json={"documents": documents},
        params={"format": "csv"},
        headers=platform.auth("acme"),
    )
    assert response.status_code == 200, response.text
    [row] = _rows(response.text)
    # A leading "=" would be a formula to a spreadsheet program: the cell is quoted as text.
    assert (row["cluster"], row["a"], row["b"], row["exact"]) == ("1", "'=cmd", "b", "false")
    assert 0.9 < float(row["jaccard"]) < 1.0

    body = "".join(json.dumps(d) + "\n" for d in documents).encode()
    job = (await platform.submit("acme", body, "application/jsonl")).json()
    assert (await platform.wait_job(job["id"], "acme"))["status"] == "completed"
    result = await platform.client.get(
        f"/v1/jobs/{job['id']}/result", headers={**platform.auth("acme"), "Accept": "text/csv"}
    )
    assert result.headers["content-type"] == "text/csv; charset=utf-8"
    assert _rows(result.text) == [row]
