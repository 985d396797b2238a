"""Synchronous text endpoints through the gateway to the real text gRPC server, and what the
gateway does when that server is down or hanging (503, circuit breaker)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration


def _shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def _jaccard(a: str, b: str, size: int = 5) -> float:
    sa, sb = _shingles(a, size), _shingles(b, size)
    return len(sa & sb) / len(sa | sb)


async def _post(platform, path: str, body: object, who: str = "acme"):  # type: ignore[no-untyped-def]
    return await platform.client.post(path, json=body, headers=platform.auth(who))


async def test_similarity_of_identical_texts_is_one(platform, corpus):
    response = await _post(platform, "/v1/text/similarity", {"a": corpus.original, "b": corpus.original})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "estimated_jaccard": 1.0,
        "exact_jaccard": 1.0,
        "shingles_a": 116,
        "shingles_b": 116,
        "num_perm": 128,
    }


async def test_similarity_values_match_an_independent_computation(platform, corpus):
    near = (
        await _post(platform, "/v1/text/similarity", {"a": corpus.original, "b": corpus.near_copy})
    ).json()
    assert (
        near["exact_jaccard"]
        == pytest.approx(_jaccard(corpus.original, corpus.near_copy))
        == pytest.approx(115 / 117)
    )
    assert abs(near["estimated_jaccard"] - near["exact_jaccard"]) < 0.15

    apart = (
        await _post(platform, "/v1/text/similarity", {"a": corpus.original, "b": corpus.unrelated})
    ).json()
    assert apart["exact_jaccard"] == 0.0
    assert apart["estimated_jaccard"] < 0.1

    words = await _post(
        platform, "/v1/text/similarity", {"a": "a b c d", "b": "A  b, c! e", "shingle_size": 1}
    )
    assert words.status_code == 200
    assert words.json()["exact_jaccard"] == pytest.approx(3 / 5)
    assert (words.json()["shingles_a"], words.json()["shingles_b"]) == (4, 4)


async def test_duplicates_cluster_near_copies_and_leave_unrelated_alone(platform, corpus):
    documents = [
        {"id": "orig", "text": corpus.original},
        {"id": "unrelated", "text": corpus.unrelated},
        {"id": "near", "text": corpus.near_copy},
        {"id": "other-copy", "text": corpus.other_copy},
        {"id": "other", "text": corpus.other},
    ]
    response = await _post(platform, "/v1/text/duplicates", {"documents": documents})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["documents"] == 5
    assert body["threshold"] == 0.8
    assert body["verified_pairs"] == 2
    assert [c["document_ids"] for c in body["clusters"]] == [["near", "orig"], ["other", "other-copy"]]
    first_pair = body["clusters"][0]["pairs"][0]
    assert {first_pair["a"], first_pair["b"]} == {"orig", "near"}
    assert first_pair["jaccard"] == pytest.approx(_jaccard(corpus.original, corpus.near_copy), abs=1e-6)
    second = body["clusters"][1]
    assert second["max_jaccard"] == pytest.approx(_jaccard(corpus.other, corpus.other_copy), abs=1e-6)

    strict = await _post(platform, "/v1/text/duplicates", {"documents": documents, "threshold": 0.95})
    assert strict.status_code == 200
    assert [c["document_ids"] for c in strict.json()["clusters"]] == [["near", "orig"]]

    none = await _post(platform, "/v1/text/duplicates", {"documents": [documents[0], documents[1]]})
    assert none.json()["clusters"] == []


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/text/similarity", {"a": "", "b": "some words here"}, "text a is empty"),
        ("/v1/text/similarity", {"a": "some words here", "b": "  \n\t "}, "text b is empty"),
        ("/v1/text/similarity", {"a": "!!! ???", "b": "some words"}, "text a contains no words"),
        (
            "/v1/text/duplicates",
            {"documents": [{"id": "x", "text": "words"}, {"id": "blank", "text": "   "}]},
            "document 'blank' is empty",
        ),
        (
            "/v1/text/duplicates",
            {"documents": [{"id": "x", "text": "one two"}, {"id": "x", "text": "three four"}]},
            "duplicate document id 'x'",
        ),
    ],
    ids=["empty", "whitespace", "no-words", "blank-document", "duplicate-id"],
)
async def test_bad_text_is_a_400_with_the_reason(platform, path, body, message):
    response = await _post(platform, path, body)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "caf\xe9 au lait", "b": "x"}',  # Latin-1 bytes, not UTF-8
        b"\xff\xfe{\x00}\x00",
        b'{"a": "unterminated',
        b"not json at all",
    ],
    ids=["latin1", "garbage", "truncated", "plain-text"],
)
async def test_a_body_that_is_not_utf8_json_is_rejected(platform, raw):
    response = await platform.client.post(
        "/v1/text/similarity",
        content=raw,
        headers={**platform.auth("acme"), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/text/similarity", {"a": "bad \ud800 surrogate", "b": "some words"}, ["body", "a"]),
        (
            "/v1/text/duplicates",
            {"documents": [{"id": "a", "text": "ok words"}, {"id": "b", "text": "x \udfff y"}]},
            ["body", "documents", 1, "text"],
        ),
        (
            "/v1/text/duplicates",
            {"documents": [{"id": "a", "text": "ok words"}, {"id": "\udfff", "text": "x y"}]},
            ["body", "documents", 1, "id"],
        ),
    ],
    ids=["similarity", "duplicates-text", "duplicates-id"],
)
async def test_json_with_a_lone_surrogate_is_a_client_error(platform, path, body, loc):
    # Valid JSON (ASCII "\\ud800" escapes), but no UTF-8 string can carry it to the text service.
    response = await platform.client.post(
        path,
        content=json.dumps(body).encode(),
        headers={**platform.auth("acme"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == loc


async def test_schema_violations_are_422(platform):
    for body in [
        {"a": "x"},
        {"a": "x", "b": "y", "shingle_size": 0},
        {"documents": []},
        {"documents": [{"id": ""}]},
    ]:
        path = "/v1/text/similarity" if "a" in body else "/v1/text/duplicates"
        response = await _post(platform, path, body)
        assert response.status_code == 422, (body, response.text)


@pytest.mark.gateway(max_request_documents=3, max_request_text_chars=200)
async def test_request_limits_are_413(platform):
    docs = [{"id": str(i), "text": f"document number {i}"} for i in range(4)]
    too_many = await _post(platform, "/v1/text/duplicates", {"documents": docs})
    assert too_many.status_code == 413
    assert "4 documents in one request; the limit is 3" in too_many.json()["detail"]
    assert (await _post(platform, "/v1/text/duplicates", {"documents": docs[:3]})).status_code == 200

    too_long = await _post(platform, "/v1/text/similarity", {"a": "word " * 41, "b": "word"})
    assert too_long.status_code == 413
    assert "the limit is 200" in too_long.json()["detail"]


@pytest.mark.gateway(breaker_fail_max=2)
async def test_client_errors_do_not_open_the_circuit(platform, corpus):
    for _ in range(5):
        response = await _post(platform, "/v1/text/similarity", {"a": " ", "b": "x"})
        assert response.status_code == 400
    assert platform.app.state.text.breaker.current_state == "closed"
    ok = await _post(platform, "/v1/text/similarity", {"a": corpus.original, "b": corpus.original})
    assert ok.status_code == 200


@pytest.mark.gateway(breaker_fail_max=3, breaker_reset_seconds=60)
async def test_text_down_gives_503_and_opens_the_circuit(platform, corpus, eventually):
    body = {"a": corpus.original, "b": corpus.near_copy}
    await platform.stop_text()
    for _ in range(3):
        response = await _post(platform, "/v1/text/similarity", body)
        assert response.status_code == 503
        assert platform.settings.text_target in response.json()["detail"]
        assert response.headers["retry-after"] == "5"
    assert platform.app.state.text.breaker.current_state == "open"

    # The text service comes back (readiness probes it directly), but the open circuit still
    # answers for it: no request reaches the server until the reset timeout.
    await platform.restart_text()

    async def text_ready() -> bool:
        return (await platform.client.get("/readyz")).json()["dependencies"]["text"]["health"] == "ok"

    await eventually(text_ready, within=20, what="text service reachable again")
    response = await _post(platform, "/v1/text/similarity", body)
    assert response.status_code == 503
    assert "circuit breaker open" in response.json()["detail"]

    # Half-open after the reset timeout: the trial call succeeds and closes the circuit.
    platform.app.state.text.breaker.half_open()
    assert (await _post(platform, "/v1/text/similarity", body)).status_code == 200
    assert platform.app.state.text.breaker.current_state == "closed"


@pytest.mark.gateway(
    breaker_fail_max=2, breaker_reset_seconds=60, grpc_deadline_seconds=0.5, text="black-hole"
)
async def test_hung_text_service_times_out_then_the_circuit_answers_at_once(platform, corpus):
    body = {"a": corpus.original, "b": corpus.near_copy}
    for _ in range(2):
        started = time.monotonic()
        response = await _post(platform, "/v1/text/similarity", body)
        assert response.status_code == 503
        assert time.monotonic() - started >= 0.45  # waited for the deadline
    # The open breaker refuses before any call goes out (pybreaker raises before calling), so the
    # refusal is not another deadline wait; asserted on the breaker, not a wall clock (CI is noisy).
    breaker = platform.app.state.text.breaker
    assert breaker.current_state == "open"
    failures = breaker.fail_counter
    response = await _post(platform, "/v1/text/similarity", body)
    assert response.status_code == 503
    assert "circuit breaker open" in response.json()["detail"]
    assert breaker.fail_counter == failures


async def test_semantic_duplicates_cluster_paraphrases(platform):
    documents = [
        {"id": "cat", "text": "The cat sat on the mat."},
        {"id": "cat-again", "text": "A cat was sitting on the mat."},
        {"id": "weather", "text": "Heavy rain is expected across the northern mountains tonight."},
    ]
    response = await _post(platform, "/v1/text/semantic-duplicates", {"documents": documents})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["documents"] == 3
    assert body["dimensions"] == 384
    [cluster] = body["clusters"]
    assert cluster["document_ids"] == ["cat", "cat-again"]
    [pair] = cluster["pairs"]
    assert pair["cosine"] > 0.8

    for threshold in (0, -0.5, 1.01):
        bad = await _post(
            platform, "/v1/text/semantic-duplicates", {"documents": documents, "threshold": threshold}
        )
        assert bad.status_code == 400, bad.text
        assert "threshold must be in (0, 1]" in bad.json()["detail"]
