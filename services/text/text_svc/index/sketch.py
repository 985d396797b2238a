"""What a persistent index stores per document, computed for many documents at once.

A sketch holds the normalised-text digest (exact duplicates), the MinHash signature (estimated
Jaccard), one 64-bit key per LSH band (candidate lookup: documents sharing a band key are
candidates) and a deterministic sample of the shingle hashes (passage fingerprints: documents
sharing a passage share the sampled shingles inside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..dedup.exact import content_digest
from ..dedup.minhash import Signatures, signatures
from ..dedup.shingles import _SHINGLE_MULT, ShingleSets, _mix, shingle_documents

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Layout:
    """How an index shingles and bands its documents (fixed when the index is created)."""

    shingle_size: int
    num_perm: int
    bands: int
    rows: int
    fingerprint_sampling: int


@dataclass(frozen=True)
class Sketches:
    sets: ShingleSets
    digests: list[str]
    signatures: Signatures  # (documents, num_perm) uint32
    band_keys: I64  # (documents, bands), the uint64 keys viewed as PostgreSQL bigint
    fingerprints: list[I64]  # per document, sorted unique

    def __len__(self) -> int:
        return len(self.digests)


def band_keys(sigs: Signatures, bands: int, rows: int) -> I64:
    """One 64-bit key per band: the band's ``rows`` signature values folded and mixed. Equal
    bands give equal keys; unequal bands collide with probability ~2^-64 (and every candidate is
    verified anyway). The band number is mixed in, so equal values in two bands differ."""
    n = sigs.shape[0]
    keys = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            h = np.full(n, band + 1, dtype=np.uint64)
            for column in range(band * rows, (band + 1) * rows):
                h = _mix(h * _SHINGLE_MULT + sigs[:, column].astype(np.uint64))
            keys[:, band] = h
    return keys.view(np.int64)


def fingerprints(sets: ShingleSets, sampling: int) -> list[I64]:
    """The shingle hashes divisible by ``sampling``, per document. The choice depends on the hash
    alone, so two documents sharing a passage keep the same shingles of it."""
    keep = sets.values % np.uint64(sampling) == 0
    out: list[I64] = []
    for doc in range(len(sets)):
        lo, hi = int(sets.offsets[doc]), int(sets.offsets[doc + 1])
        out.append(sets.values[lo:hi][keep[lo:hi]].view(np.int64))
    return out


def sketch(texts: Sequence[str], layout: Layout) -> Sketches:
    sets = shingle_documents(texts, layout.shingle_size)
    sigs = signatures(sets, layout.num_perm)
    return Sketches(
        sets=sets,
        digests=[content_digest(text) for text in texts],
        signatures=sigs,
        band_keys=band_keys(sigs, layout.bands, layout.rows),
        fingerprints=fingerprints(sets, layout.fingerprint_sampling),
    )


def signature_bytes(signature: Signatures) -> bytes:
    return signature.astype("<u4").tobytes()


def signatures_from_bytes(rows: Sequence[bytes], num_perm: int) -> Signatures:
    if not rows:
        return np.zeros((0, num_perm), dtype=np.uint32)
    return np.frombuffer(b"".join(rows), dtype="<u4").reshape(len(rows), num_perm).astype(np.uint32)
