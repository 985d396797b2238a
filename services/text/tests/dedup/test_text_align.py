"""Passage alignment against passages inserted at known offsets into real licence texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clipsift_common.errors import InvalidArgument, ResourceExhausted
from text_svc.dedup.align import align
from text_svc.dedup.detector import Detector
from text_svc.dedup.html_report import render
from text_svc.settings import TextSettings

LICENSES = Path("/usr/share/common-licenses")
APACHE = (LICENSES / "Apache-2.0").read_text()
BSD = (LICENSES / "BSD").read_text()
MPL = (LICENSES / "MPL-2.0").read_text()


def _word_bounds(passage: str) -> str:
    """The passage from its first word character to its last (what alignment can see)."""
    match = re.search(r"\w.*\w", passage, re.DOTALL)
    assert match
    return match.group()


def _paragraph(text: str, starting: str) -> str:
    start = text.index(starting)
    return text[start : text.index("\n\n", start)]


def _insert(host: str, passage: str, after: str) -> tuple[str, int]:
    """``host`` with ``passage`` as a new paragraph after the paragraph containing ``after``."""
    at = host.index("\n\n", host.index(after)) + 2
    return host[:at] + passage + "\n\n" + host[at:], at


@pytest.fixture
def detector(tmp_path: Path) -> Detector:
    return Detector(TextSettings(nats_url="nats://unused", blob_dir=tmp_path, max_document_chars=100_000))  # type: ignore[call-arg]


def test_inserted_paragraph_is_found_at_its_offsets_in_both_documents() -> None:
    paragraph = _paragraph(APACHE, '"Derivative Works" shall mean')
    host, at = _insert(BSD, paragraph, "Redistribution and use")
    result = align(APACHE, host, 8)
    [passage] = result.passages
    expected = _word_bounds(paragraph)
    assert APACHE[passage.a_start : passage.a_end] == expected
    assert passage.a_start == APACHE.index(paragraph) + paragraph.index(expected)
    assert passage.b_start == at + paragraph.index(expected)
    assert host[passage.b_start : passage.b_end] == expected
    words = len(re.findall(r"\w+", paragraph))
    assert passage.a_word_end - passage.a_word == words
    assert result.coverage_a == pytest.approx(words / len(re.findall(r"\w+", APACHE)))
    assert result.coverage_b == pytest.approx(words / len(re.findall(r"\w+", host)))


def test_two_passages_from_two_licences_in_a_third() -> None:
    from_apache = _paragraph(APACHE, '"Contribution" shall mean')
    from_mpl = _paragraph(MPL, '1.4. "Covered Software"')
    host, _ = _insert(BSD, from_mpl, "Redistribution and use")
    host, _ = _insert(host, from_apache, "3. Neither the name")
    against_apache = align(APACHE, host, 8)
    assert [host[p.b_start : p.b_end] for p in against_apache.passages] == [_word_bounds(from_apache)]
    against_mpl = align(MPL, host, 8)
    assert [host[p.b_start : p.b_end] for p in against_mpl.passages] == [_word_bounds(from_mpl)]
    assert [MPL[p.a_start : p.a_end] for p in against_mpl.passages] == [_word_bounds(from_mpl)]


def test_a_few_edited_words_do_not_split_a_passage() -> None:
    paragraph = _paragraph(APACHE, '"Derivative Works" shall mean')
    edited = paragraph.replace("editorial revisions", "editorial changes", 1)
    assert edited != paragraph
    host, _at = _insert(BSD, edited, "Redistribution and use")
    [passage] = align(APACHE, host, 8).passages
    assert host[passage.b_start : passage.b_end] == _word_bounds(edited)
    assert APACHE[passage.a_start : passage.a_end] == _word_bounds(paragraph)


def test_offsets_are_characters_of_the_original_unicode_text() -> None:
    shared = "\uff2ca façade du café Ærø reste ouverte jusqu'à minuit même le dimanche 日本語 テキスト"
    a = "Prélude: 東京の話。 " + shared + " — fin."
    b = "ÉCHO ★ " + shared.upper().replace("\uff2c", "L") + "\n(traduit)"
    [passage] = align(a, b, 5).passages
    assert a[passage.a_start : passage.a_end] == shared
    assert b[passage.b_start : passage.b_end] == shared.upper().replace("\uff2c", "L")
    assert passage.a_start == a.index(shared)
    assert passage.b_start == len("ÉCHO ★ ")


def test_unrelated_texts_share_no_passage() -> None:
    result = align(BSD, "entirely different words that appear nowhere in the licence at all today", 8)
    assert result.passages == []
    assert result.coverage_a == result.coverage_b == 0.0


def test_identical_texts_are_one_passage_covering_everything() -> None:
    result = align(BSD, BSD, 8)
    assert len(result.passages) == 1
    assert result.coverage_a == result.coverage_b == 1.0


def test_compare_validates_and_reports_jaccard(detector: Detector) -> None:
    comparison = detector.compare(BSD, BSD)
    assert comparison.min_words == 8
    assert comparison.exact_jaccard == 1.0
    with pytest.raises(InvalidArgument, match="text a is empty"):
        detector.compare("  ", BSD)
    with pytest.raises(InvalidArgument, match="min_words must be between 3 and 100, got 2"):
        detector.compare(BSD, BSD, 2)
    with pytest.raises(InvalidArgument, match="min_words must be between 3 and 100, got 101"):
        detector.compare(BSD, BSD, 101)
    with pytest.raises(ResourceExhausted, match="the limit is 100000"):
        detector.compare(BSD, "word " * 30_000)


def test_html_report_escapes_and_numbers_passages() -> None:
    shared = "one two three four five six seven eight nine ten"
    a = f"<script>alert(1)</script> {shared} & more"
    b = f"{shared} <b>bold</b>"
    result = align(a, b, 5)
    page = render(a, b, result, 0.5, title_a="<a.txt>", title_b="b.txt")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;a.txt&gt;" in page
    assert page.count('<mark id="a1"') == 1
    assert page.count('<mark id="b1"') == 1
    assert f'<sup class="n">[1]</sup>{shared}</mark>' in page
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)
    assert "@import" not in page
