"""The LLM re-ranker against a real llama.cpp server running SmolLM2-135M, and against a scripted local
HTTP server for the failures a healthy model never produces. The 135M model is too small to judge clip
quality, so these tests check the contract (ids, ranges, reasons, errors), never which clip wins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from video_svc.llm_ranker import LlmRanker, LlmUnavailable, RankItem

from .llm_server import MODEL_ALIAS, completion, free_port, llama_server, scripted_server

pytestmark = pytest.mark.integration

STORY = RankItem(
    index=10,
    start=12.0,
    end=41.5,
    text=(
        "I lost my first startup because we priced the product at nine dollars a month. "
        "We had four thousand users and still went broke in eighteen months."
    ),
    score=72.0,
)
HOUSEKEEPING = RankItem(
    index=11,
    start=50.0,
    end=66.0,
    text="Okay, can everyone see my screen? Let me share the agenda first. Sorry, where was I?",
    score=41.0,
)
TURNING_POINT = RankItem(
    index=12,
    start=90.0,
    end=118.0,
    text=(
        "The turning point was when we tripled the price to thirty dollars and churn actually went down, "
        "because the serious customers stayed."
    ),
    score=66.0,
)
FILLER = RankItem(
    index=13,
    start=130.0,
    end=145.0,
    text="Um, so yeah, anyway, let's move on to the next slide I guess.",
    score=18.0,
)
ITEMS = [STORY, TURNING_POINT, HOUSEKEEPING, FILLER]


@pytest.fixture(scope="session")
def llm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as base_url:
        yield base_url


def assert_well_formed(verdict_scores: dict[int, float], sent: list[RankItem]) -> None:
    assert verdict_scores, "the model scored no clip"
    assert set(verdict_scores) <= {item.index for item in sent}
    assert all(0.0 <= score <= 1.0 for score in verdict_scores.values()), verdict_scores


async def test_real_model_scores_sent_clips_with_reasons(llm_url: str) -> None:
    verdict = await LlmRanker(llm_url, MODEL_ALIAS).rerank(ITEMS)

    assert_well_formed(verdict.scores, ITEMS)
    assert verdict.reasons, "no reason came back"
    assert set(verdict.reasons) <= set(verdict.scores)
    assert all(reason.strip() and len(reason) <= 200 for reason in verdict.reasons.values())
    assert verdict.model == MODEL_ALIAS


async def test_prompt_keywords_language_and_genre_reach_the_real_model(llm_url: str) -> None:
    verdict = await LlmRanker(llm_url, MODEL_ALIAS).rerank(
        ITEMS,
        prompt="moments where the guest talks about pricing",
        topic_keywords=["pricing", "churn"],
        language="en",
        genre="podcast",
    )

    assert_well_formed(verdict.scores, ITEMS)


async def test_only_the_first_max_candidates_reach_the_real_model(llm_url: str) -> None:
    verdict = await LlmRanker(llm_url, MODEL_ALIAS, max_candidates=2, max_text_chars=60).rerank(ITEMS)

    assert_well_formed(verdict.scores, ITEMS[:2])


async def test_timeout_while_the_real_model_generates(llm_url: str) -> None:
    with pytest.raises(LlmUnavailable, match=r"timed out after 0\.001 s"):
        await LlmRanker(llm_url, MODEL_ALIAS, timeout_seconds=0.001).rerank(ITEMS)


async def test_endpoint_down_names_the_url() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there

    with pytest.raises(LlmUnavailable, match="connection failed") as failure:
        await LlmRanker(base_url, "m", timeout_seconds=5).rerank(ITEMS)
    assert f"{base_url}/chat/completions" in str(failure.value)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, "text/plain", b"<html>definitely not json</html>"), "bad answer"),
        ((200, "application/json", b'{"object": "list", "data": []}'), "bad answer"),
        (completion("I think clip one is the best one, honestly."), "bad answer: no usable clip scores"),
        (completion('{"clips": [{"id": 99, "score": 9, "reason": "not a clip we sent"}]}'), "bad answer"),
        ((500, "text/plain", b"upstream exploded"), "HTTP 500"),
        ((503, "application/json", b'{"error": "loading model"}'), "HTTP 503"),
    ],
)
async def test_bad_answers_from_a_real_http_server(answer: tuple[int, str, bytes], expected: str) -> None:
    with scripted_server(lambda _: answer) as server, pytest.raises(LlmUnavailable, match=expected):
        await LlmRanker(server.base_url, "m", timeout_seconds=5).rerank(ITEMS)


async def test_request_carries_settings_and_only_the_first_candidates_truncated() -> None:
    long_text = "pricing " * 400  # 3200 characters
    items = [
        RankItem(index=100 + i, start=i, end=i + 30, text=f"clip{i} {long_text}", score=50) for i in range(5)
    ]
    answer = (
        '{"clips": [{"id": 1, "score": 8, "reason": "Concrete."}, {"id": 2, "score": 3, "reason": "Vague."}]}'
    )
    with scripted_server(lambda _: completion(answer, model="served-name")) as server:
        ranker = LlmRanker(
            server.base_url, "wanted-name", api_key="sk-test", max_candidates=2, max_text_chars=100
        )
        verdict = await ranker.rerank(
            items, prompt="moments about pricing", topic_keywords=["pricing", "tiers"]
        )

    assert verdict.scores == {100: 0.8, 101: 0.3}
    assert verdict.reasons == {100: "Concrete.", 101: "Vague."}
    assert verdict.model == "served-name"
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    body: dict[str, Any] = request.body
    assert body["model"] == "wanted-name"
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_object"
    user = body["messages"][-1]["content"]
    assert "clip0" in user
    assert "clip1" in user
    assert "clip2" not in user
    clip_lines = [line for line in user.splitlines() if line.startswith("Clip ")]
    assert len(clip_lines) == 2
    assert all(len(line.split(": ", 1)[1]) == 100 for line in clip_lines)
    assert "moments about pricing" in user
    assert "pricing, tiers" in user


async def test_no_authorization_header_without_api_key() -> None:
    with scripted_server(
        lambda _: completion('{"clips": [{"id": 1, "score": 5, "reason": "ok"}]}')
    ) as server:
        await LlmRanker(server.base_url, "m").rerank(ITEMS[:1])

    assert "Authorization" not in server.requests[0].headers


async def test_tolerant_parsing_of_a_chatty_answer() -> None:
    chatty = (
        "Sure! Here is my rating:\n```json\n"
        + json.dumps(
            {
                "clips": [
                    {"id": "1", "score": 15, "reason": "  Strong\n story.  "},
                    {"id": 2, "score": -3, "reason": "x" * 500},
                    {"id": 3, "score": "7/10"},
                    {"id": 42, "score": 9, "reason": "not sent"},
                    {"id": 1, "score": 0, "reason": "a second entry for clip 1 is ignored"},
                ]
            }
        )
        + "\n```\nHope this helps."
    )
    with scripted_server(lambda _: completion(chatty)) as server:
        verdict = await LlmRanker(server.base_url, "m").rerank(ITEMS)

    assert verdict.scores == {STORY.index: 1.0, TURNING_POINT.index: 0.0, HOUSEKEEPING.index: 0.7}
    assert verdict.reasons[STORY.index] == "Strong story."
    assert len(verdict.reasons[TURNING_POINT.index]) == 200
    assert HOUSEKEEPING.index not in verdict.reasons


async def test_an_answer_cut_off_by_max_tokens_keeps_its_complete_entries() -> None:
    cut = '{"clips": [{"id": 1, "score": 6, "reason": "Complete thought."}, {"id": 2, "score": 4, "rea'
    with scripted_server(lambda _: completion(cut)) as server:
        verdict = await LlmRanker(server.base_url, "m").rerank(ITEMS)

    assert verdict.scores == {STORY.index: 0.6}


async def test_falls_back_to_plain_json_mode_when_the_schema_key_is_refused() -> None:
    refusal = json.dumps({"error": {"message": "Unknown parameter: 'response_format.schema'."}}).encode()

    def openai_like(body: Any) -> tuple[int, str, bytes]:
        if "schema" in body["response_format"]:
            return 400, "application/json", refusal
        return completion('{"clips": [{"id": 1, "score": 9, "reason": "Hooky opening."}]}')

    with scripted_server(openai_like) as server:
        ranker = LlmRanker(server.base_url, "m")
        first = await ranker.rerank(ITEMS)
        second = await ranker.rerank(ITEMS)

    assert first.scores == second.scores == {STORY.index: 0.9}
    formats = [request.body["response_format"] for request in server.requests]
    assert "schema" in formats[0]
    assert formats[1:] == [{"type": "json_object"}, {"type": "json_object"}]  # remembered after one refusal


async def test_no_items_means_no_request() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    verdict = await LlmRanker(base_url, "m").rerank([])

    assert verdict.scores == {}
    assert verdict.reasons == {}
