"""MinHash signatures, LSH banding and exact verification of candidate pairs.

Two signature schemes:

- ``oph_signatures`` (what the search uses): one-permutation MinHash with optimal densification
  (see ``scan``). One hash per shingle picks a bin and a value, so it costs one pass over the
  shingles whatever ``num_perm`` is; every bin still agrees between two sets with probability
  equal to their Jaccard.
- ``signatures``: ``num_perm`` independent multiply-shift hashes h(x) = (a*x + b) >> 32 over the
  well-mixed 64-bit shingle hashes (classic MinHash), evaluated as one (num_perm x shingles)
  matrix per block of documents and reduced per document with ``np.minimum.reduceat``.

LSH bands are hashed to one 64-bit key per (document, band) and grouped with one sort. Every
candidate is verified against the exact Jaccard of the shingle sets (a compiled merge per pair),
so the output holds no false positives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from . import scan
from .shingles import ShingleSets, _mix

Signatures = npt.NDArray[np.uint32]
_SEED = 1_000_003  # fixed: identical inputs give identical signatures on every run and host
_BLOCK_SHINGLES = 1 << 15  # columns per hash-matrix block (num_perm x block x 8 bytes)
_BAND_MULT = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def _hash_block(values: npt.NDArray[np.uint64], num_perm: int) -> npt.NDArray[np.uint64]:
    a, b = _permutations(num_perm)
    with np.errstate(over="ignore"):
        return (a[:, None] * values[None, :] + b[:, None]) >> np.uint64(32)


def signatures(sets: ShingleSets, num_perm: int) -> Signatures:
    """One row of ``num_perm`` minima per document. Empty documents get all-max rows."""
    n = len(sets)
    out = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    sizes = sets.sizes()
    doc = 0
    while doc < n:
        if sizes[doc] == 0:
            doc += 1
            continue
        if sizes[doc] >= _BLOCK_SHINGLES:
            # One large document: stream its shingles through fixed-size blocks.
            values = sets.of(doc)
            mins = np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
            for start in range(0, len(values), _BLOCK_SHINGLES):
                block = _hash_block(values[start : start + _BLOCK_SHINGLES], num_perm)
                np.minimum(mins, block.min(axis=1), out=mins)
            out[doc] = mins.astype(np.uint32)
            doc += 1
            continue
        # Many small documents: hash them together and reduce per document segment.
        end, total = doc, 0
        while end < n and sizes[end] < _BLOCK_SHINGLES and total + sizes[end] <= _BLOCK_SHINGLES:
            total += sizes[end]
            end += 1
        group = [i for i in range(doc, end) if sizes[i] > 0]
        lo, hi = sets.offsets[doc], sets.offsets[end]
        block = _hash_block(sets.values[lo:hi], num_perm)
        starts = sets.offsets[group] - lo
        out[group] = np.minimum.reduceat(block, starts, axis=1).T.astype(np.uint32)
        doc = end
    return out


def oph_signatures(sets: ShingleSets, num_perm: int) -> Signatures:
    """Densified one-permutation MinHash, ``num_perm`` bins per document (the search's scheme).
    Equal to the signatures ``scan.scan_corpus`` computes from the texts. Empty documents get
    all-max rows."""
    return scan.oph_signatures(sets.values, sets.offsets, num_perm)


def estimated_jaccard(sig_a: Signatures, sig_b: Signatures) -> float:
    return float(np.mean(sig_a == sig_b))


def _false_probabilities(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    grid = np.linspace(0.0, 1.0, 2001)
    collide = 1.0 - (1.0 - grid**rows) ** bands
    below, above = grid <= threshold, grid >= threshold
    false_pos = np.trapezoid(collide[below], grid[below])
    false_neg = np.trapezoid(1.0 - collide[above], grid[above])
    return float(false_pos), float(false_neg)


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, fn_weight: float = 0.99) -> tuple[int, int]:
    """Bands and rows (bands * rows <= num_perm) minimising the weighted area of false
    positives below and false negatives above the threshold. False negatives weigh more:
    a missed duplicate is lost, a false candidate only costs one exact check. (At 0.9 the
    choice for 0.8 / 128 was 14 x 9, which finds a pair right at the threshold only 87% of
    the time; 0.99 gives 18 x 7 and 98.6%.)"""
    best, best_cost = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp, fn = _false_probabilities(threshold, bands, rows)
            cost = (1.0 - fn_weight) * fp + fn_weight * fn
            if cost < best_cost:
                best, best_cost = (bands, rows), cost
    return best


def band_keys(sigs: Signatures, bands: int, rows: int) -> npt.NDArray[np.uint64]:
    """(documents, bands) 64-bit keys: equal band contents give equal keys, and different ones
    (or different bands) collide with probability 2**-64 (candidates are verified anyway)."""
    n = sigs.shape[0]
    values = sigs[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        keys = np.broadcast_to(_mix(np.arange(1, bands + 1, dtype=np.uint64)), (n, bands)).copy()
        for row in range(rows):
            keys = keys * _BAND_MULT + values[:, :, row]
        return _mix(keys)


def candidate_pairs(sigs: Signatures, bands: int, rows: int) -> npt.NDArray[np.int64]:
    """Unique (i, j), i < j, of documents sharing at least one band bucket, sorted."""
    n = sigs.shape[0]
    if n < 2 or bands < 1:
        return np.zeros((0, 2), dtype=np.int64)
    keys = band_keys(sigs, bands, rows).ravel()
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    lengths = np.diff(np.append(starts, len(keys)))
    shared = lengths > 1
    codes = _bucket_pair_codes(order // bands, starts[shared], lengths[shared], n)
    codes = np.unique(codes)
    return np.stack([codes // n, codes % n], axis=1)


@scan._jit
def _bucket_pair_codes(
    docs: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    total = 0
    for length in lengths:
        total += length * (length - 1) // 2
    out = np.empty(total, dtype=np.int64)
    m = 0
    for b in range(len(starts)):
        s, length = starts[b], lengths[b]
        for x in range(s, s + length):
            for y in range(x + 1, s + length):
                i, j = docs[x], docs[y]
                if i == j:
                    continue
                out[m] = min(i, j) * n + max(i, j)
                m += 1
    return out[:m]


@dataclass(frozen=True)
class DuplicateResult:
    clusters: list[list[int]]  # document indices, each cluster sorted, clusters ordered by first member
    pairs: list[tuple[int, int, float]]  # verified pairs with exact Jaccard
    candidate_pairs: int
    bands: int
    rows: int
    # Groups of documents identical after normalisation (see ``exact``), each sorted, and their
    # digests; empty when the caller did not look for exact duplicates.
    exact_groups: list[list[int]] = field(default_factory=list)
    exact_digests: list[str] = field(default_factory=list)
    exact_pairs: int = 0  # pairs in ``pairs`` that are exact duplicates (Jaccard 1.0 by construction)


def find_duplicates(
    sets: ShingleSets,
    threshold: float,
    num_perm: int,
    progress: Callable[[str, float], None] | None = None,
) -> DuplicateResult:
    """Near-duplicate clusters: connected components of pairs with exact Jaccard >= threshold."""
    report = progress or (lambda step, fraction: None)
    sigs = oph_signatures(sets, num_perm)
    report("minhash", 1.0)
    return search(sigs, sets.values, sets.offsets, np.arange(len(sets), dtype=np.int64), threshold, report)


def search(
    sigs: Signatures,
    shingles: npt.NDArray[np.uint64],
    offsets: npt.NDArray[np.int64],
    documents: npt.NDArray[np.int64],
    threshold: float,
    progress: Callable[[str, float], None] | None = None,
) -> DuplicateResult:
    """LSH over ``sigs``, then every candidate verified with its exact Jaccard.

    Row ``r`` of ``sigs`` is document ``documents[r]``, whose shingle hashes are
    ``shingles[offsets[d]:offsets[d + 1]]`` (any order, repeats allowed). Pairs and clusters are
    in row numbers. Rows without shingles never match.
    """
    report = progress or (lambda step, fraction: None)
    n, num_perm = sigs.shape
    bands, rows = lsh_params(round(threshold, 4), num_perm)
    live = np.flatnonzero(offsets[documents + 1] > offsets[documents])
    candidates = live[candidate_pairs(sigs[live], bands, rows)]
    report("lsh", 1.0)
    similarity = scan.pair_jaccard(shingles, offsets, documents[candidates])
    keep = similarity >= threshold
    pairs = list(
        zip(
            candidates[keep, 0].tolist(),
            candidates[keep, 1].tolist(),
            similarity[keep].tolist(),
            strict=True,
        )
    )
    report("verify", 1.0)
    return DuplicateResult(
        clusters=list(components(n, [(i, j) for i, j, _ in pairs])),
        pairs=pairs,
        candidate_pairs=len(candidates),
        bands=bands,
        rows=rows,
    )


def components(n: int, edges: list[tuple[int, int]]) -> Iterator[list[int]]:
    """Connected components with more than one member, each sorted, ordered by first member."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for a, _ in edges:
        groups.setdefault(root(a), [])
    for x in range(n):
        r = root(x)
        if r in groups:
            groups[r].append(x)
    for r in sorted(groups):
        yield groups[r]
