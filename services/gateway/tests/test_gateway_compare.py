"""POST /v1/text/compare through the gateway to the real text gRPC server: JSON and HTML reports."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

LICENSES = Path("/usr/share/common-licenses")
APACHE = (LICENSES / "Apache-2.0").read_text()
BSD = (LICENSES / "BSD").read_text()
# Word-bounded: alignment reports from the first word character to the last.
PARAGRAPH = APACHE[APACHE.index('"Derivative Works" shall mean') + 1 : APACHE.index("thereof.", 0) + 7]


def _host() -> tuple[str, int]:
    at = BSD.index("\n\n", BSD.index("Redistribution and use")) + 2
    return BSD[:at] + PARAGRAPH + ".\n\n" + BSD[at:], at


async def _compare(platform, body: object, who: str = "acme", **params: str):  # type: ignore[no-untyped-def]
    return await platform.client.post(
        "/v1/text/compare", json=body, params=params, headers=platform.auth(who)
    )


async def test_compare_reports_the_inserted_passage_with_offsets(platform):
    host, at = _host()
    response = await _compare(platform, {"a": APACHE, "b": host})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "html" not in body
    [passage] = body["passages"]
    start = APACHE.index(PARAGRAPH)
    assert (passage["a_start"], passage["a_end"]) == (start, start + len(PARAGRAPH))
    assert (passage["b_start"], passage["b_end"]) == (at, at + len(PARAGRAPH))
    assert passage["words_a"] == passage["words_b"] == len(PARAGRAPH.split())
    assert body["min_words"] == 8
    assert body["coverage_b"] == pytest.approx(passage["words_b"] / body["words_b"])
    assert 0 < body["exact_jaccard"] < 0.2

    unrelated = await _compare(
        platform, {"a": BSD, "b": "nothing in common with that licence, at all", "min_words": 3}
    )
    assert unrelated.status_code == 200
    assert unrelated.json()["passages"] == []
    assert unrelated.json()["coverage_a"] == 0.0


async def test_compare_as_html(platform):
    host, _ = _host()
    response = await _compare(
        platform, {"a": "<script>alert('x')</script> " + APACHE, "b": host}, format="html"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count('<mark id="a1"') == 1
    assert page.count('<mark id="b1"') == 1
    assert "http://" not in page.replace("http://www.apache.org/licenses/", "")  # no external assets


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"a": "", "b": BSD}, 400, "text a is empty"),
        ({"a": BSD, "b": "  \n "}, 400, "text b is empty"),
        ({"a": BSD, "b": BSD, "min_words": 2}, 400, "min_words must be between 3 and 100, got 2"),
        ({"a": BSD, "b": BSD, "min_words": 101}, 400, "min_words must be between 3 and 100, got 101"),
        ({"a": BSD, "b": "word " * 500}, 413, "a text has 2500 characters; the limit is 2000"),
    ],
    ids=["empty-a", "blank-b", "min-words-low", "min-words-high", "too-long"],
)
@pytest.mark.gateway(max_request_text_chars=2000)
async def test_bad_compare_input_gets_the_reason(platform, body, status, message):
    response = await _compare(platform, body)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


async def test_compare_needs_a_key(platform):
    response = await platform.client.post("/v1/text/compare", json={"a": BSD, "b": BSD})
    assert response.status_code == 401
