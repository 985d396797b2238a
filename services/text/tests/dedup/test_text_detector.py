"""Detector: input validation, limits and results keyed by document id."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipsift_common.errors import InvalidArgument, ResourceExhausted
from text_svc.dedup.detector import Detector
from text_svc.dedup.report import clusters_by_id
from text_svc.settings import TextSettings

BASE = " ".join(f"word{i}" for i in range(60))
NEAR = BASE.replace("word30", "changed")  # 5 of 56 shingles differ
OTHER = " ".join(f"other{i}" for i in range(60))


def make_detector(tmp_path: Path, **overrides: object) -> Detector:
    return Detector(TextSettings(nats_url="nats://unused", blob_dir=tmp_path, **overrides))  # type: ignore[arg-type]


@pytest.fixture
def detector(tmp_path: Path) -> Detector:
    return make_detector(tmp_path)


def test_similarity_of_identical_near_and_unrelated_texts(detector: Detector) -> None:
    same = detector.similarity(BASE, BASE)
    assert (same.estimated, same.exact, same.shingles_a, same.shingles_b, same.num_perm) == (
        1.0,
        1.0,
        56,
        56,
        128,
    )
    near = detector.similarity(BASE, NEAR)
    assert near.exact == pytest.approx(51 / 61)
    assert abs(near.estimated - near.exact) < 0.15
    far = detector.similarity(BASE, OTHER)
    assert far.exact == 0.0
    assert far.estimated < 0.1


def test_similarity_honours_shingle_size(detector: Detector) -> None:
    result = detector.similarity("a b c d", "a b c e", shingle_size=2)
    assert (result.shingles_a, result.shingles_b) == (3, 3)
    assert result.exact == pytest.approx(2 / 4)
    assert detector.similarity("a b c d", "a b c e", shingle_size=1).exact == pytest.approx(3 / 5)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("", BASE, "text a is empty"),
        (BASE, "   \n\t ", "text b is empty"),
        ("!!! ???", BASE, "text a contains no words"),
        (BASE, "--- ...", "text b contains no words"),
    ],
)
def test_similarity_rejects_texts_without_words(detector: Detector, a: str, b: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        detector.similarity(a, b)


@pytest.mark.parametrize("size", [33, 1000])
def test_similarity_rejects_bad_shingle_size(detector: Detector, size: int) -> None:
    with pytest.raises(InvalidArgument, match=f"shingle_size must be between 1 and 32, got {size}"):
        detector.similarity(BASE, BASE, shingle_size=size)


def test_similarity_rejects_text_over_the_character_limit(tmp_path: Path) -> None:
    small = make_detector(tmp_path, max_document_chars=100)
    with pytest.raises(ResourceExhausted, match="text b has 101 characters; the limit is 100"):
        small.similarity("short text", "x" * 101)
    assert small.similarity("a b", "y" * 100).exact == 0.0  # exactly at the limit is fine


def test_find_duplicates_groups_by_id(detector: Detector) -> None:
    ids = ["base", "other", "near", "copy"]
    result, threshold = detector.find_duplicates(ids, [BASE, OTHER, NEAR, BASE])
    assert threshold == 0.8  # the default
    assert result.clusters == [[0, 2, 3]]
    clusters = clusters_by_id(ids, result)
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster["document_ids"] == ["base", "copy", "near"]
    assert {(p["a"], p["b"]) for p in cluster["pairs"]} == {
        ("base", "near"),
        ("base", "copy"),
        ("near", "copy"),
    }
    assert cluster["max_jaccard"] == 1.0
    assert cluster["min_jaccard"] == pytest.approx(51 / 61, abs=1e-6)


def test_find_duplicates_threshold_and_shingle_size(detector: Detector) -> None:
    result, threshold = detector.find_duplicates(["a", "b"], [BASE, NEAR], threshold=0.9)
    assert threshold == 0.9
    assert result.clusters == []
    result, _ = detector.find_duplicates(["a", "b"], [BASE, NEAR], threshold=0.9, shingle_size=1)
    assert result.clusters == [[0, 1]]  # 59 of 61 words shared


def test_clusters_by_id_orders_largest_first() -> None:
    from text_svc.dedup.minhash import DuplicateResult

    result = DuplicateResult(
        clusters=[[0, 1], [2, 3, 4]],
        pairs=[(0, 1, 0.9), (2, 3, 0.95), (3, 4, 0.85)],
        candidate_pairs=5,
        bands=1,
        rows=1,
    )
    clusters = clusters_by_id(["z", "y", "c", "b", "a"], result)
    assert [c["document_ids"] for c in clusters] == [["a", "b", "c"], ["y", "z"]]
    assert clusters[0]["max_jaccard"] == 0.95
    assert clusters[0]["min_jaccard"] == 0.85
    assert clusters[1]["pairs"] == [{"a": "z", "b": "y", "jaccard": 0.9, "exact": False}]


@pytest.mark.parametrize(
    ("ids", "texts", "message"),
    [
        ([], [], "no documents given"),
        (["a", "b"], [BASE, ""], "document 'b' is empty"),
        (["a", "b"], [BASE, "  \n "], "document 'b' is empty"),
        (["a", "b"], [BASE, "!!!"], "document 'b' contains no words"),
        (["a", "a"], [BASE, NEAR], "duplicate document id 'a'"),
        (["a", ""], [BASE, NEAR], "every document needs a non-empty id"),
    ],
)
def test_find_duplicates_rejects_bad_batches(
    detector: Detector, ids: list[str], texts: list[str], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        detector.find_duplicates(ids, texts)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_find_duplicates_rejects_bad_threshold(detector: Detector, threshold: float) -> None:
    with pytest.raises(InvalidArgument, match=r"threshold must be in \(0, 1\]"):
        detector.find_duplicates(["a", "b"], [BASE, NEAR], threshold=threshold)


def test_find_duplicates_limits(tmp_path: Path) -> None:
    small = make_detector(tmp_path, max_document_chars=50)
    with pytest.raises(ResourceExhausted, match="document 'long' has 51 characters; the limit is 50"):
        small.find_duplicates(["ok", "long"], ["a b c", "y" * 51])
    detector = make_detector(tmp_path)
    ids = [str(i) for i in range(4)]
    with pytest.raises(ResourceExhausted, match="4 documents in one request; the limit is 3"):
        detector.find_duplicates(ids, [BASE] * 4, limit=3)
    result, _ = detector.find_duplicates(ids[:3], [BASE] * 3, limit=3)
    assert result.clusters == [[0, 1, 2]]


def test_find_duplicates_reports_progress(detector: Detector) -> None:
    seen: list[tuple[str, float]] = []
    detector.find_duplicates(["a", "b"], [BASE, NEAR], progress=lambda step, f: seen.append((step, f)))
    assert [s for s, _ in seen] == ["shingle", "minhash", "lsh", "verify"]
    assert all(f == 1.0 for _, f in seen)
