"""One compiled pass over a whole corpus: tokens, shingle hashes, MinHash bins and exact-text keys.

Near-duplicate search used to spend its time in per-token Python and numpy calls (regex
tokenising, token hashing, per-document ``np.unique``, a 128-row hash matrix per shingle). Here
the corpus is one UTF-8 byte buffer and a numba kernel walks it once, character by character:

- tokens are maximal runs of word characters (``str.isalnum`` or ``_``, exactly ``re``'s ``\\w``),
  hashed with FNV-1a over their code points and the splitmix64 finaliser: the same values as
  ``shingles.hash_tokens``;
- ``k``-token shingles are hashed from the last ``k`` token hashes, as ``shingles.shingle_documents``
  always did, so shingle sets are identical to the earlier implementation;
- each shingle hash updates a one-permutation MinHash (OPH) signature: its high 32 bits pick one
  of ``num_perm`` bins, its low 32 bits are the value kept if smaller. One hash per shingle instead
  of ``num_perm``; empty bins are filled afterwards by optimal densification (Shrivastava 2017),
  which keeps Pr[bins equal] = Jaccard for every bin;
- a 64-bit hash of the whitespace-collapsed text finds exact-duplicate candidates without building
  the canonical string (``exact`` confirms them with SHA-1).

Text is normalised as ``shingles.normalize`` does (NFKC, then case folding): Python applies NFKC
to non-ASCII documents (ASCII ones are NFKC already), the kernel case-folds each code point
through a table (see ``encode_corpus`` for the few characters that fold to several).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Signatures = npt.NDArray[np.uint32]

F = TypeVar("F", bound=Callable[..., Any])

WORD, SPACE, MULTI = 1, 2, 4  # character classes (see ``char_table``)
_CLASS_SHIFT = 24
_CODE_MASK = np.uint32(0x1FFFFF)
_WORD_BIT = np.uint32(WORD << _CLASS_SHIFT)
_SPACE_BIT = np.uint32(SPACE << _CLASS_SHIFT)
_MULTI_BIT = np.uint32(MULTI << _CLASS_SHIFT)
_PENDING_SPACE = np.uint64(1 << 21)  # above every code point
EMPTY = np.uint32(0xFFFFFFFF)  # value of a bin no shingle reached (and of every bin of an empty doc)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_SHINGLE_MULT = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_DENSIFY_SEED = np.uint64(0x5DEECE66D)  # fixed: densification is the same on every run and host
_PROBE_MULT = np.uint64(0xD6E8FEB86659FD93)


def _jit(fn: F) -> F:
    # nogil: the service runs these in a worker thread; the event loop keeps serving meanwhile.
    return cast(F, numba.njit(nogil=True, cache=False)(fn))


@_jit
def _mix(x: np.uint64) -> np.uint64:
    """splitmix64 finaliser, as ``shingles._mix``."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@lru_cache(maxsize=1)
def char_table() -> npt.NDArray[np.uint32]:
    """Per code point: its case folding (low 21 bits) when that is one code point, else itself,
    with ``WORD`` (``re``'s ``\\w``: ``str.isalnum`` or ``_``), ``SPACE`` (``str.isspace``) and
    ``MULTI`` (case folds to several code points, e.g. "ß" -> "ss") from bit 24 on.

    Built once per process (about a second): every code point goes through the ``str`` methods
    the earlier tokeniser used, so the tables agree with them by construction.
    """
    codes = np.arange(0x110000, dtype=np.uint32)
    # Every code point but NUL, each followed by a NUL separator: no case folding produces or
    # consumes NUL, so the separators delimit each code point's folding.
    spaced = np.zeros(2 * (0x110000 - 1), dtype=np.uint32)
    spaced[0::2] = codes[1:]
    folded = np.frombuffer(
        _from_utf32(spaced).casefold().encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    )
    ends = np.flatnonzero(folded == 0)
    lengths = np.diff(np.concatenate([[-1], ends])) - 1
    table = codes.copy()
    single = lengths == 1
    table[1:][single] = folded[ends[single] - 1]
    multi = np.flatnonzero(~single) + 1
    everything = _from_utf32(codes)
    # str methods on the whole range in C, one code point at a time through ``filter``.
    word = np.fromiter(map(ord, filter(str.isalnum, everything)), dtype=np.int64)
    space = np.fromiter(map(ord, filter(str.isspace, everything)), dtype=np.int64)
    is_word = np.zeros(0x110000, dtype=np.uint32)
    is_word[word] = WORD
    is_word[ord("_")] = WORD
    is_space = np.zeros(0x110000, dtype=np.uint32)
    is_space[space] = SPACE
    code = table & _CODE_MASK
    # Classes are those of the folded character: the tokeniser ran on case-folded text.
    table |= (is_word[code] | is_space[code]) << _CLASS_SHIFT
    table[multi] |= np.uint32(MULTI << _CLASS_SHIFT)
    return table


def _from_utf32(codes: npt.NDArray[np.uint32]) -> str:
    return codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


@_jit
def _decode_at(buf: npt.NDArray[np.uint8], p: int) -> np.int64:
    """The code point whose (valid UTF-8) encoding starts at ``buf[p]``."""
    b = np.int64(buf[p])
    if b < 0x80:
        return b
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(buf[p + 1]) & 0x3F)
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(buf[p + 1]) & 0x3F) << 6) | (np.int64(buf[p + 2]) & 0x3F)
    return (
        ((b & 0x07) << 18)
        | ((np.int64(buf[p + 1]) & 0x3F) << 12)
        | ((np.int64(buf[p + 2]) & 0x3F) << 6)
        | (np.int64(buf[p + 3]) & 0x3F)
    )


@_jit
def _needs_full_fold(
    buf: npt.NDArray[np.uint8], offsets: I64, table: npt.NDArray[np.uint32]
) -> npt.NDArray[np.bool_]:
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.bool_)
    for d in range(n):
        for p in range(offsets[d], offsets[d + 1]):
            if buf[p] >= 0xC0 and table[_decode_at(buf, p)] & _MULTI_BIT:
                out[d] = True
                break
    return out


def encode_corpus(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint8], I64]:
    """The texts as one UTF-8 buffer and each text's byte offsets (``len(texts) + 1``).

    Texts are NFKC-normalised here unless ASCII (already normalised); case folding is left to the
    kernel's per-code-point table, except in texts with a character that folds to several
    (German "ß"), which Python case-folds here. The kernel's folding then changes nothing
    (case folding is idempotent).
    """
    parts: list[bytes] = []
    wide: list[int] = []
    for index, text in enumerate(texts):
        if text.isascii():
            parts.append(text.encode("ascii"))
        else:
            # surrogatepass: a lone surrogate must not crash (it is no word character either way).
            parts.append(unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass"))
            wide.append(index)
    if wide:
        buf, offsets = _join([parts[i] for i in wide])
        for k in np.flatnonzero(_needs_full_fold(buf, offsets, char_table())).tolist():
            text = unicodedata.normalize("NFKC", texts[wide[k]]).casefold()
            parts[wide[k]] = text.encode("utf-8", "surrogatepass")
    return _join(parts)


def _join(parts: list[bytes]) -> tuple[npt.NDArray[np.uint8], I64]:
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)), out=offsets[1:])
    return np.frombuffer(b"".join(parts), dtype=np.uint8), offsets


@_jit
def _scan(
    buf: npt.NDArray[np.uint8],
    offsets: I64,
    table: npt.NDArray[np.uint32],
    size: int,
    num_bins: int,
    keep_shingles: bool,
) -> tuple[U64, I64, Signatures, npt.NDArray[np.bool_], U64]:
    n = len(offsets) - 1
    longest = 0
    for d in range(n):
        longest = max(longest, offsets[d + 1] - offsets[d])
    tokens = np.empty(longest // 2 + 1, dtype=np.uint64)  # one document's token hashes
    capacity = (len(buf) + 1) // 2 + n if keep_shingles else 1
    shingles = np.empty(capacity, dtype=np.uint64)
    shingle_offsets = np.zeros(n + 1, dtype=np.int64)
    bins = np.full((n, max(num_bins, 1)), 0xFFFFFFFF, dtype=np.uint32)
    filled = np.zeros((n, max(num_bins, 1)), dtype=np.bool_)
    text_keys = np.empty(n, dtype=np.uint64)
    top_power = np.uint64(1)  # _SHINGLE_MULT ** (size - 1), mod 2**64
    for _ in range(size - 1):
        top_power = top_power * _SHINGLE_MULT
    out = 0
    for d in range(n):
        count = 0
        h = _FNV_OFFSET
        in_token = False
        # Exact-duplicate key over the non-space characters, each flagged when whitespace
        # precedes it inside the text: the same information as the text with every whitespace
        # run collapsed to one space and none at the edges.
        key = _FNV_OFFSET
        started, pending_space = False, np.uint64(0)
        for p in range(offsets[d], offsets[d + 1]):
            b = buf[p]
            if b < 0x80:
                entry = table[b]
            elif b < 0xC0:
                continue  # continuation byte of the character its lead byte decoded
            else:
                entry = table[_decode_at(buf, p)]
            code = np.uint64(entry & _CODE_MASK)
            if entry & _SPACE_BIT:
                if started:
                    pending_space = _PENDING_SPACE
            else:
                key = (key ^ (code | pending_space)) * _FNV_PRIME
                pending_space = np.uint64(0)
                started = True
            if entry & _WORD_BIT:
                h = (h ^ code) * _FNV_PRIME
                in_token = True
            elif in_token:
                tokens[count] = _mix(h)
                count += 1
                h = _FNV_OFFSET
                in_token = False
        if in_token:
            tokens[count] = _mix(h)
            count += 1
        text_keys[d] = _mix(key)
        # Shingles: a rolling polynomial over ``size`` token hashes (mod 2**64, so exactly the
        # sum t0 * M**(size-1) + ... + t_last that ``shingles.shingle_documents`` computes). A
        # text with fewer words than ``size`` is one shingle of all its words.
        combined = np.uint64(0)
        first = min(size, count) - 1
        for t in range(count):
            if t >= size:
                combined = combined - tokens[t - size] * top_power
            combined = combined * _SHINGLE_MULT + tokens[t]
            if t < first:
                continue
            shingle = _mix(combined)
            if keep_shingles:
                shingles[out] = shingle
            out += 1
            if num_bins > 0:
                slot = np.int64(((shingle >> _S32) * np.uint64(num_bins)) >> _S32)
                value = np.uint32(shingle & _LOW32)
                if value < bins[d, slot] or not filled[d, slot]:
                    bins[d, slot] = value
                    filled[d, slot] = True
        shingle_offsets[d + 1] = out
    return shingles[: out if keep_shingles else 0], shingle_offsets, bins, filled, text_keys


@_jit
def _densify(bins: Signatures, filled: npt.NDArray[np.bool_]) -> None:
    """Optimal densification: an empty bin takes the value of the first filled bin on its own
    fixed probe sequence. The sequence depends on the bin and attempt only, so two documents
    fill bin ``j`` from the same source whenever they have the same bins filled."""
    n, k = bins.shape
    for d in range(n):
        count = 0
        for j in range(k):
            if filled[d, j]:
                count += 1
        if count == 0 or count == k:
            continue
        for j in range(k):
            if filled[d, j]:
                continue
            attempt = np.uint64(0)
            while True:
                probe = _mix(_DENSIFY_SEED ^ (np.uint64(j) * _PROBE_MULT + attempt))
                source = np.int64(probe % np.uint64(k))
                if filled[d, source]:
                    bins[d, j] = bins[d, source]
                    break
                attempt += np.uint64(1)


@_jit
def _oph_of_sets(values: U64, offsets: I64, num_bins: int) -> tuple[Signatures, npt.NDArray[np.bool_]]:
    n = len(offsets) - 1
    bins = np.full((n, num_bins), 0xFFFFFFFF, dtype=np.uint32)
    filled = np.zeros((n, num_bins), dtype=np.bool_)
    for d in range(n):
        for i in range(offsets[d], offsets[d + 1]):
            shingle = values[i]
            slot = np.int64(((shingle >> _S32) * np.uint64(num_bins)) >> _S32)
            value = np.uint32(shingle & _LOW32)
            if value < bins[d, slot] or not filled[d, slot]:
                bins[d, slot] = value
                filled[d, slot] = True
    return bins, filled


def oph_signatures(values: U64, offsets: I64, num_bins: int) -> Signatures:
    """One-permutation MinHash of the shingle hashes ``values[offsets[d]:offsets[d + 1]]`` of every
    document ``d`` (sorted or not, repeats allowed), densified. Documents without shingles get
    all-``EMPTY`` rows."""
    if num_bins < 1:
        raise ValueError(f"num_bins must be at least 1, got {num_bins}")
    bins, filled = _oph_of_sets(values, offsets, num_bins)
    _densify(bins, filled)
    return bins


@_jit
def _sorted_unique(values: U64, offsets: I64, docs: I64) -> tuple[U64, I64]:
    total = 0
    for d in docs:
        total += offsets[d + 1] - offsets[d]
    out = np.empty(total, dtype=np.uint64)
    out_offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    m = 0
    for i, d in enumerate(docs):
        part = np.sort(values[offsets[d] : offsets[d + 1]])
        for j in range(len(part)):
            if j == 0 or part[j] != part[j - 1]:
                out[m] = part[j]
                m += 1
        out_offsets[i + 1] = m
    return out[:m].copy(), out_offsets


def sorted_unique(values: U64, offsets: I64, docs: I64 | None = None) -> tuple[U64, I64]:
    """Per-document sorted distinct values, for ``docs`` (default: every document), concatenated."""
    chosen = np.arange(len(offsets) - 1, dtype=np.int64) if docs is None else docs.astype(np.int64)
    return _sorted_unique(values, offsets, chosen)


@_jit
def _pair_jaccard(values: U64, offsets: I64, pairs: I64) -> npt.NDArray[np.float64]:
    # One open-addressing table per pair (reused: a slot is live when its stamp is the pair's),
    # so sets need neither sorting nor de-duplication. state: 1 = in a only, 2 = in b only,
    # 3 = in both (counted once however often b repeats it).
    largest = 1
    for k in range(len(pairs)):
        size = (
            offsets[pairs[k, 0] + 1] - offsets[pairs[k, 0]] + offsets[pairs[k, 1] + 1] - offsets[pairs[k, 1]]
        )
        largest = max(largest, size)
    capacity = 1
    while capacity < 2 * largest:
        capacity *= 2
    keys = np.empty(capacity, dtype=np.uint64)
    state = np.zeros(capacity, dtype=np.uint8)
    stamp = np.full(capacity, -1, dtype=np.int64)
    out = np.empty(len(pairs), dtype=np.float64)
    for k in range(len(pairs)):
        a, b = pairs[k, 0], pairs[k, 1]
        total = offsets[a + 1] - offsets[a] + offsets[b + 1] - offsets[b]
        mask = np.uint64(1)
        while mask < np.uint64(2 * total):
            mask = mask * np.uint64(2)
        mask = mask - np.uint64(1)
        only_a, only_b, both = 0, 0, 0
        for i in range(offsets[a], offsets[a + 1]):
            value = values[i]
            slot = value & mask  # values are already well-mixed 64-bit hashes
            while stamp[slot] == k and keys[slot] != value:
                slot = (slot + np.uint64(1)) & mask
            if stamp[slot] != k:
                stamp[slot], keys[slot], state[slot] = k, value, 1
                only_a += 1
        for i in range(offsets[b], offsets[b + 1]):
            value = values[i]
            slot = value & mask
            while stamp[slot] == k and keys[slot] != value:
                slot = (slot + np.uint64(1)) & mask
            if stamp[slot] != k:
                stamp[slot], keys[slot], state[slot] = k, value, 2
                only_b += 1
            elif state[slot] == 1:
                state[slot] = 3
                only_a -= 1
                both += 1
        union = only_a + only_b + both
        out[k] = 1.0 if union == 0 else both / union
    return out


def pair_jaccard(values: U64, offsets: I64, pairs: I64) -> npt.NDArray[np.float64]:
    """Exact Jaccard of each pair ``(a, b)`` of shingle sets ``values[offsets[x]:offsets[x + 1]]``
    (any order, repeats allowed; two empty sets have Jaccard 1)."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=np.float64)
    return _pair_jaccard(values, offsets, np.ascontiguousarray(pairs, dtype=np.int64).reshape(-1, 2))


@dataclass(frozen=True)
class CorpusScan:
    """What one pass over a corpus found, per document."""

    shingles: U64  # every shingle hash in text order, repeats included (empty unless kept)
    offsets: I64  # per document into ``shingles``; its differences count shingles with repeats
    signatures: Signatures  # (documents, num_bins) densified OPH; all-EMPTY rows for no shingles
    text_keys: U64  # 64-bit hash of the normalised, whitespace-collapsed text

    def shingle_counts(self) -> I64:
        return np.diff(self.offsets)


def scan_corpus(
    texts: Sequence[str], size: int, num_bins: int = 0, *, keep_shingles: bool = True
) -> CorpusScan:
    """Shingle hashes (``size`` words), OPH signatures of ``num_bins`` bins (none for 0) and
    exact-text keys of every text, in one pass."""
    if size < 1:
        raise ValueError(f"shingle size must be at least 1, got {size}")
    if num_bins < 0:
        raise ValueError(f"num_bins must not be negative, got {num_bins}")
    buf, offsets = encode_corpus(texts)
    shingles, shingle_offsets, bins, filled, keys = _scan(
        buf, offsets, char_table(), size, num_bins, keep_shingles
    )
    if num_bins > 0:
        _densify(bins, filled)
    else:
        bins = np.zeros((len(texts), 0), dtype=np.uint32)
    return CorpusScan(shingles=shingles, offsets=shingle_offsets, signatures=bins, text_keys=keys)


def warm_up() -> None:
    """Compile every kernel (about ten seconds once per process) before the first request needs it."""
    scan = scan_corpus(["warm up the near duplicate kernels", "é"], 2, 4)
    values, offsets = sorted_unique(scan.shingles, scan.offsets)
    oph_signatures(values, offsets, 4)
    pair_jaccard(values, offsets, np.array([[0, 1]], dtype=np.int64))
