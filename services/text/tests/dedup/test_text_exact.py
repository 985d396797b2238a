"""Exact duplicates by normalised-text hash, and how they join the near-duplicate search."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from text_svc.dedup import detector as detector_module
from text_svc.dedup.detector import Detector
from text_svc.dedup.exact import content_digest, group_exact
from text_svc.dedup.report import clusters_by_id, exact_groups_by_id
from text_svc.settings import TextSettings

BASE = " ".join(f"word{i}" for i in range(60))
NEAR = BASE.replace("word30", "changed")
OTHER = " ".join(f"other{i}" for i in range(60))


@pytest.fixture
def detector(tmp_path: Path) -> Detector:
    return Detector(TextSettings(nats_url="nats://unused", blob_dir=tmp_path))  # type: ignore[call-arg]


def test_digest_ignores_case_width_and_whitespace_but_not_words() -> None:
    plain = content_digest("Caf\u00e9 au lait, please.")
    assert plain == hashlib.sha1("café au lait, please.".encode()).hexdigest()
    # Upper case, a fullwidth letter (NFKC), decomposed é (NFKC composes it) and odd whitespace.
    assert content_digest("  CAFE\u0301 \t au\n\n\uff2cait,   please. ") == plain
    assert content_digest("Café au lait, please!") != plain  # punctuation is content
    assert content_digest("Café au lait please.") != plain


def test_groups_keep_document_order() -> None:
    groups = group_exact(["b", "a", "B ", "c", "a", " b"])
    assert groups.representatives == [0, 1, 3]
    assert groups.members == [[0, 2, 5], [1, 4], [3]]
    assert groups.duplicated() == [0, 1]
    assert groups.digests[0] == content_digest("b")


def test_exact_groups_and_flags_in_find_duplicates(detector: Detector) -> None:
    ids = ["base", "other", "near", "copy", "shouted", "other-copy"]
    texts = [BASE, OTHER, NEAR, BASE, BASE.upper(), "  " + OTHER.replace(" ", "\n")]
    result, _ = detector.find_duplicates(ids, texts)
    assert result.exact_groups == [[0, 3, 4], [1, 5]]
    assert result.exact_pairs == 3
    assert result.clusters == [[0, 2, 3, 4], [1, 5]]
    # Exact pairs: each member with its group's first; near pairs: every member of base's group with near.
    assert [(i, j) for i, j, _ in result.pairs] == [(0, 2), (0, 3), (0, 4), (1, 5), (2, 3), (2, 4)]
    clusters = clusters_by_id(ids, result)
    flags = {(p["a"], p["b"]): (p["exact"], p["jaccard"]) for p in clusters[0]["pairs"]}
    assert flags == {
        ("base", "copy"): (True, 1.0),
        ("base", "shouted"): (True, 1.0),
        ("base", "near"): (False, pytest.approx(51 / 61, abs=1e-6)),
        ("near", "copy"): (False, pytest.approx(51 / 61, abs=1e-6)),
        ("near", "shouted"): (False, pytest.approx(51 / 61, abs=1e-6)),
    }
    assert exact_groups_by_id(ids, result) == [
        {"document_ids": ["base", "copy", "shouted"], "content_sha1": content_digest(BASE)},
        {"document_ids": ["other", "other-copy"], "content_sha1": content_digest(OTHER)},
    ]


def test_exact_duplicates_are_searched_once(detector: Detector, monkeypatch: pytest.MonkeyPatch) -> None:
    # The one pass over the corpus hashes every document; LSH and verification see one
    # representative per distinct text.
    seen: list[int] = []
    real = detector_module.search

    def counting(sigs, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(len(sigs))
        return real(sigs, *args, **kwargs)

    monkeypatch.setattr(detector_module, "search", counting)
    result, _ = detector.find_duplicates([str(i) for i in range(50)], [BASE] * 49 + [OTHER])
    assert seen == [2]  # one representative per distinct text
    assert result.candidate_pairs == 0  # nothing left for LSH to propose
    assert result.clusters == [list(range(49))]
    assert result.exact_pairs == len(result.pairs) == 48


def test_grouping_by_keys_confirms_with_sha1() -> None:
    texts = ["alpha beta", "gamma", "ALPHA  beta", "delta", "gamma"]
    by_digest = group_exact(texts)
    # Keys that collide for every text: SHA-1 still keeps different texts apart.
    colliding = group_exact(texts, np.zeros(len(texts), dtype=np.uint64))
    assert colliding.members == by_digest.members == [[0, 2], [1, 4], [3]]
    assert colliding.digests == by_digest.digests
    # Distinct keys: no SHA-1 is computed, and unique texts carry no digest.
    unique = group_exact(texts, np.arange(len(texts), dtype=np.uint64))
    assert unique.members == [[0], [1], [2], [3], [4]]
    assert unique.digests == [""] * 5
    with pytest.raises(ValueError, match="2 keys for 5 texts"):
        group_exact(texts, np.zeros(2, dtype=np.uint64))


def test_exact_only_documents_with_no_words_still_fail(detector: Detector) -> None:
    from clipsift_common.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="contains no words"):
        detector.find_duplicates(["a", "b"], ["!!!", "!!!"])
