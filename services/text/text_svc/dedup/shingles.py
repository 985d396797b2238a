"""Word shingles as sorted arrays of 64-bit hashes, computed for many documents at once.

``shingle_documents`` runs the compiled corpus pass of ``scan``. The plain implementation below
it (``reference_shingle_documents``: regex tokens, token hashes computed column-wise over a
fixed-width code-point matrix, per-document ``np.unique``) defines the same values and is what
the compiled pass is tested and benchmarked against; ``align`` uses its token hashing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .scan import (
    _FNV_OFFSET,
    _FNV_PRIME,
    _M1,
    _M2,
    _S27,
    _S30,
    _S31,
    scan_corpus,
    sorted_unique,
)
from .scan import _SHINGLE_MULT as _SHINGLE_MULT  # re-exported: align hashes k-grams alike

U64 = npt.NDArray[np.uint64]
_WORD = re.compile(r"\w+")
_PRIME = _FNV_PRIME  # FNV-1a 64-bit
_OFFSET = _FNV_OFFSET
_MASK64 = (1 << 64) - 1
# Tokens longer than this are hashed by a per-character loop instead of one numpy pass per column.
_LONG_TOKEN = 256


def normalize(text: str) -> str:
    """Case- and compatibility-folded text: fullwidth, ligature and upper-case forms shingle alike."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def _mix(x: U64) -> U64:
    """splitmix64 finaliser: spreads every input bit over the whole word."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def hash_tokens(tokens: Sequence[str]) -> U64:
    """Stable 64-bit hash per token, independent of batch composition.

    Natural text repeats its words (a 10 MB corpus holds ~1.5M tokens but ~50k distinct ones), so
    only the distinct tokens are hashed and the result is gathered back. ``dict.fromkeys`` and
    ``map(dict.__getitem__)`` iterate in C: no Python bytecode runs per token.
    """
    vocabulary = list(dict.fromkeys(tokens))
    if len(vocabulary) == len(tokens):
        return _hash_distinct(tokens)
    position = {token: index for index, token in enumerate(vocabulary)}
    ids = np.fromiter(map(position.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    return _hash_distinct(vocabulary)[ids]


def _hash_distinct(tokens: Sequence[str]) -> U64:
    out = np.zeros(len(tokens), dtype=np.uint64)
    if not tokens:
        return out
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    # Hash tokens in classes of similar length (bit length of len - 1): one long token must not
    # pad every other token of the batch to its width, which would cost tokens x longest token.
    classes = np.frexp(np.maximum(lengths - 1, 0).astype(np.float64))[1]
    for cls in np.unique(classes):
        members = np.flatnonzero(classes == cls)
        group = [tokens[i] for i in members.tolist()]
        if int(lengths[members].max()) > _LONG_TOKEN:
            # Few tokens this long exist; one numpy pass per character would cost more than a loop.
            out[members] = _mix(np.array([_fnv1a(t) for t in group], dtype=np.uint64))
        else:
            out[members] = _hash_same_width(group)
    return out


def _fnv1a(token: str) -> int:
    """FNV-1a over code points, identical to the column-wise loop of ``_hash_same_width``."""
    h, prime = int(_OFFSET), int(_PRIME)
    for code in map(ord, token):
        if code:  # the column-wise loop skips NUL (it cannot tell it from padding)
            h = ((h ^ code) * prime) & _MASK64
    return h


def _hash_same_width(tokens: Sequence[str]) -> U64:
    codes = np.array(tokens, dtype=np.str_)
    width = codes.dtype.itemsize // 4
    points = codes.view(np.uint32).reshape(len(tokens), width).astype(np.uint64)
    h = np.full(len(tokens), _OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(width):
            c = points[:, column]
            # Zero padding beyond a token's end must not change its hash.
            h = np.where(c != 0, (h ^ c) * _PRIME, h)
        return _mix(h)


@dataclass(frozen=True)
class ShingleSets:
    """Concatenated sorted-unique shingle hashes of several documents, split by ``offsets``."""

    values: U64
    offsets: npt.NDArray[np.int64]  # len(documents) + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def of(self, index: int) -> U64:
        return self.values[self.offsets[index] : self.offsets[index + 1]]

    def sizes(self) -> npt.NDArray[np.int64]:
        return np.diff(self.offsets)


def shingle_documents(texts: Sequence[str], size: int) -> ShingleSets:
    """Sets of ``size``-word shingles per text. A text shorter than ``size`` words is one shingle;
    a text with no words has an empty set.

    Computed by the compiled corpus pass (``scan``); equal to ``reference_shingle_documents``.
    """
    corpus = scan_corpus(texts, size)
    values, offsets = sorted_unique(corpus.shingles, corpus.offsets)
    return ShingleSets(values=values, offsets=offsets)


def reference_shingle_documents(texts: Sequence[str], size: int) -> ShingleSets:
    """``shingle_documents`` in plain Python and numpy (regex tokens, per-document ``np.unique``):
    about ten times slower, kept as the independent reference the compiled pass is tested and
    benchmarked against."""
    token_lists = [tokenize(text) for text in texts]
    counts = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    all_hashes = hash_tokens([tok for toks in token_lists for tok in toks])
    starts = np.concatenate([[0], np.cumsum(counts)])
    parts: list[U64] = []
    with np.errstate(over="ignore"):
        for i, n in enumerate(counts):
            tokens = all_hashes[starts[i] : starts[i + 1]]
            k = min(size, int(n))
            if k == 0:
                parts.append(np.zeros(0, dtype=np.uint64))
                continue
            count = int(n) - k + 1
            combined = tokens[:count].copy()
            for j in range(1, k):
                combined = combined * _SHINGLE_MULT + tokens[j : j + count]
            parts.append(np.unique(_mix(combined)))
    sizes = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    return ShingleSets(values=values, offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))


def exact_jaccard(a: U64, b: U64) -> float:
    """Jaccard of two sorted-unique hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
