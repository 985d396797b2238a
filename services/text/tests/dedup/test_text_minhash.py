"""MinHash signatures and LSH against brute-force exact Jaccard over a real-text corpus."""

from __future__ import annotations

import glob
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from text_svc.dedup.minhash import (
    _BLOCK_SHINGLES,
    _permutations,
    candidate_pairs,
    estimated_jaccard,
    find_duplicates,
    lsh_params,
    oph_signatures,
    signatures,
)
from text_svc.dedup.shingles import ShingleSets, exact_jaccard, shingle_documents

THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    sets: ShingleSets
    exact: dict[tuple[int, int], float]  # every pair with exact Jaccard > 0


def _base_documents(rng: random.Random) -> list[list[str]]:
    """Windows of 120-250 words from this machine's licence texts, one per distinct file;
    synthetic Zipf-like texts when the machine has too few."""
    paths = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(
        glob.glob("/usr/share/doc/*/copyright")
    )
    bases: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                words = handle.read().split()
        except (IsADirectoryError, PermissionError):
            continue
        if len(words) < 150 or tuple(words[:60]) in seen:
            continue
        seen.add(tuple(words[:60]))
        start = rng.randrange(0, len(words) - 120)
        bases.append(words[start : start + rng.randint(120, 250)])
        if len(bases) == 220:
            return bases
    vocab = [f"tok{i}" for i in range(3000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    while len(bases) < 220:
        bases.append(rng.choices(vocab, weights, k=rng.randint(120, 250)))
    return bases


def _perturb(rng: random.Random, words: list[str], edits: int, vocab: list[str]) -> list[str]:
    out = list(words)
    for _ in range(edits):
        op = rng.choice("dsi")
        i = rng.randrange(len(out))
        if op == "d" and len(out) > 10:
            del out[i]
        elif op == "s" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        else:
            out.insert(i, rng.choice(vocab))
    return out


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    rng = random.Random(7)
    bases = _base_documents(rng)
    vocab = [w for b in bases for w in b]
    docs: list[list[str]] = []
    for base in bases:
        docs.append(base)
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            docs.append(_perturb(rng, base, rng.randint(0, 12), vocab))
    texts = [" ".join(d) for d in docs]
    sets = shingle_documents(texts, SHINGLE)
    exact: dict[tuple[int, int], float] = {}
    for i in range(len(sets)):
        a = sets.of(i)
        for j in range(i + 1, len(sets)):
            similarity = exact_jaccard(a, sets.of(j))
            if similarity > 0:
                exact[(i, j)] = similarity
    return Corpus(texts, sets, exact)


def test_corpus_is_a_meaningful_benchmark(corpus: Corpus) -> None:
    truth = [v for v in corpus.exact.values() if v >= THRESHOLD]
    near_misses = [v for v in corpus.exact.values() if 0.6 <= v < THRESHOLD]
    assert len(corpus.texts) >= 300
    assert len(truth) >= 100
    assert len(near_misses) >= 50
    assert sum(1 for v in truth if v < 0.9) >= 20  # pairs close to the threshold, the hard cases


def test_find_duplicates_precision_and_recall_against_brute_force(corpus: Corpus) -> None:
    result = find_duplicates(corpus.sets, THRESHOLD, NUM_PERM)
    truth = {pair for pair, v in corpus.exact.items() if v >= THRESHOLD}
    found = {(i, j) for i, j, _ in result.pairs}
    # Every reported pair is verified: exact Jaccard, not an estimate.
    for i, j, similarity in result.pairs:
        assert i < j
        assert similarity == pytest.approx(corpus.exact[(i, j)])
    assert found <= truth, f"false positives: {sorted(found - truth)[:5]}"
    recall = len(found & truth) / len(truth)
    assert recall >= 0.98, f"recall {recall:.3f}: missed {[corpus.exact[p] for p in sorted(truth - found)]}"
    # Pairs well above the threshold collide in some band with near certainty.
    assert {p for p in truth if corpus.exact[p] >= 0.9} <= found
    assert result.candidate_pairs >= len(found)
    assert result.candidate_pairs < len(corpus.texts) * (len(corpus.texts) - 1) // 2 // 20


@pytest.mark.parametrize("scheme", [signatures, oph_signatures], ids=["classic", "oph"])
def test_estimated_jaccard_is_close_to_exact(corpus: Corpus, scheme: Callable[..., np.ndarray]) -> None:
    sigs = scheme(corpus.sets, NUM_PERM)
    assert sigs.shape == (len(corpus.texts), NUM_PERM)
    assert sigs.dtype == np.uint32
    similar = [(p, v) for p, v in corpus.exact.items() if v >= 0.3]
    assert len(similar) >= 100
    errors = np.array([estimated_jaccard(sigs[i], sigs[j]) - v for (i, j), v in similar])
    # The estimate is a mean of 128 agreements: its standard deviation is at most
    # sqrt(0.25 / 128) = 0.044. Over thousands of pairs a few land past 3.5 sigma, none past 5.
    assert np.abs(errors).max() < 0.22
    assert np.mean(np.abs(errors) > 0.15) < 0.002
    assert abs(errors.mean()) < 0.01  # unbiased
    assert np.abs(errors).mean() < 0.04
    # Unrelated documents: the estimate stays near zero too.
    rng = random.Random(3)
    for _ in range(300):
        i, j = sorted(rng.sample(range(len(corpus.texts)), 2))
        assert abs(estimated_jaccard(sigs[i], sigs[j]) - corpus.exact.get((i, j), 0.0)) < 0.15
    assert estimated_jaccard(sigs[0], sigs[0]) == 1.0


def test_oph_is_no_less_accurate_than_classic_minhash(corpus: Corpus) -> None:
    # Densified OPH bins are negatively correlated, so its error is at most the classic one.
    similar = [(p, v) for p, v in corpus.exact.items() if v >= 0.3]
    errors = {}
    for scheme in (signatures, oph_signatures):
        sigs = scheme(corpus.sets, NUM_PERM)
        errors[scheme] = np.mean([abs(estimated_jaccard(sigs[i], sigs[j]) - v) for (i, j), v in similar])
    assert errors[oph_signatures] < errors[signatures] * 1.15


def test_results_are_deterministic(corpus: Corpus) -> None:
    first = find_duplicates(corpus.sets, THRESHOLD, NUM_PERM)
    again = find_duplicates(shingle_documents(corpus.texts, SHINGLE), THRESHOLD, NUM_PERM)
    assert first == again
    # A document's signature does not depend on which documents share its batch.
    order = list(range(len(corpus.texts)))
    random.Random(11).shuffle(order)
    shuffled_sets = shingle_documents([corpus.texts[i] for i in order], SHINGLE)
    for scheme in (signatures, oph_signatures):
        assert np.array_equal(scheme(shuffled_sets, NUM_PERM), scheme(corpus.sets, NUM_PERM)[order])


def test_clusters_are_the_connected_components_of_verified_pairs(corpus: Corpus) -> None:
    result = find_duplicates(corpus.sets, THRESHOLD, NUM_PERM)
    neighbours: dict[int, set[int]] = {}
    for i, j, _ in result.pairs:
        neighbours.setdefault(i, set()).add(j)
        neighbours.setdefault(j, set()).add(i)
    expected: list[list[int]] = []
    visited: set[int] = set()
    for start in sorted(neighbours):
        if start in visited:
            continue
        component, queue = [], deque([start])
        visited.add(start)
        while queue:
            node = queue.popleft()
            component.append(node)
            for other in neighbours[node] - visited:
                visited.add(other)
                queue.append(other)
        expected.append(sorted(component))
    assert result.clusters == expected
    assert any(len(c) > 2 for c in result.clusters)


def test_chain_of_near_duplicates_is_one_cluster() -> None:
    # b differs from a in words 40-44, c from b in words 70-74: a~b and b~c, but not a~c.
    a = [f"w{i}" for i in range(100)]
    b = [*a[:40], "x1", "x2", "x3", "x4", "x5", *a[45:]]
    c = [*b[:70], "y1", "y2", "y3", "y4", "y5", *b[75:]]
    unrelated = [f"u{i}" for i in range(100)]
    sets = shingle_documents([" ".join(t) for t in (unrelated, a, b, c)], 5)
    assert exact_jaccard(sets.of(1), sets.of(2)) >= 0.8
    assert exact_jaccard(sets.of(2), sets.of(3)) >= 0.8
    assert exact_jaccard(sets.of(1), sets.of(3)) < 0.8
    result = find_duplicates(sets, 0.8, NUM_PERM)
    assert result.clusters == [[1, 2, 3]]
    assert sorted((i, j) for i, j, _ in result.pairs) == [(1, 2), (2, 3)]


def test_empty_documents_never_match() -> None:
    sets = shingle_documents(["!!!", "", "a b c d e f", "a b c d e f", "???"], 5)
    for scheme in (signatures, oph_signatures):
        sigs = scheme(sets, 16)
        assert (sigs[[0, 1, 4]] == np.iinfo(np.uint32).max).all()
    result = find_duplicates(sets, 0.8, 16)
    assert result.clusters == [[2, 3]]
    assert result.pairs == [(2, 3, 1.0)]


def test_signatures_equal_a_direct_minimum_over_the_hash_family() -> None:
    # One document larger than a hash block (streamed in blocks) between small ones (grouped).
    big = " ".join(f"w{i}" for i in range(_BLOCK_SHINGLES + 5000))
    texts = ["small one two three four five six", big, "another small text here", "tiny"]
    sets = shingle_documents(texts, 5)
    assert sets.sizes()[1] > _BLOCK_SHINGLES
    num_perm = 16
    sigs = signatures(sets, num_perm)
    a, b = _permutations(num_perm)
    mask = (1 << 64) - 1
    for doc in range(len(texts)):
        values = [int(v) for v in sets.of(doc)]
        for p in range(num_perm):
            ap, bp = int(a[p]), int(b[p])
            assert int(sigs[doc, p]) == min(((ap * v + bp) & mask) >> 32 for v in values)


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8, 0.95, 1.0])
def test_lsh_params_fit_the_signature(threshold: float, num_perm: int) -> None:
    bands, rows = lsh_params(threshold, num_perm)
    assert bands >= 1
    assert rows >= 1
    assert bands * rows <= num_perm


def test_lsh_params_put_the_s_curve_at_the_threshold() -> None:
    bands, rows = lsh_params(0.8, 128)

    def collide(j: float) -> float:
        return 1.0 - (1.0 - j**rows) ** bands

    assert collide(0.8) >= 0.95  # a pair at the threshold is almost always a candidate
    assert collide(0.9) >= 0.999
    assert collide(0.4) <= 0.05  # dissimilar pairs rarely cost an exact check
    # A higher threshold asks for more rows per band (a steeper, later S-curve).
    assert lsh_params(0.95, 128)[1] > lsh_params(0.5, 128)[1]


def test_candidate_pairs_are_documents_sharing_a_band() -> None:
    sigs = np.array(
        [
            [1, 2, 3, 4],
            [1, 2, 9, 9],  # shares band 0 with doc 0
            [7, 7, 3, 4],  # shares band 1 with doc 0
            [8, 8, 8, 8],  # shares nothing
            [1, 2, 3, 4],  # identical to doc 0
        ],
        dtype=np.uint32,
    )
    pairs = candidate_pairs(sigs, bands=2, rows=2)
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 4], [1, 4], [2, 4]]
    assert candidate_pairs(sigs[[0, 3]], bands=2, rows=2).shape == (0, 2)
