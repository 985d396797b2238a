"""The compiled corpus pass: same shingles as the plain reference, OPH signatures, exact-text keys."""

from __future__ import annotations

import glob
import gzip
import random
import re

import numpy as np
import pytest

from text_svc.dedup.exact import content_digest
from text_svc.dedup.minhash import estimated_jaccard, oph_signatures
from text_svc.dedup.scan import (
    _CLASS_SHIFT,
    _CODE_MASK,
    EMPTY,
    MULTI,
    SPACE,
    WORD,
    char_table,
    encode_corpus,
    pair_jaccard,
    scan_corpus,
    sorted_unique,
)
from text_svc.dedup.shingles import exact_jaccard, reference_shingle_documents, shingle_documents

TRICKY = [
    "Straße STRASSE straße",  # ß folds to "ss": the text goes through Python's casefold
    # NFKC: ligature, fullwidth ("FULL"), circled digits, superscript, title-case digraph.
    "\ufb01ne \ufb01nance \uff26\uff35\uff2c\uff2c \u2460\u2461 x\u00b2 \u01c5emal",
    # Dotted capital I folds to two code points; Greek capital and final sigma fold to small sigma.
    "\u0130stanbul \u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2",
    "e\u0301te\u0301 été café_bar naïve",  # decomposed accents compose under NFKC
    "日本語のテキスト 中文 한국어 العربية עברית",
    "emoji 😀 🇩🇪 tab\tsep\u00a0nbsp\u2003em\u3000ideographic",
    "lone \ud800 surrogate \udfff here",
    "snake_case __dunder__ 123 4.5 x_1",
    "",
    "   \n\t ",
    "!!! ... ---",
    "one",
    "two words",
    "a b c d e f g h i j k l m n o p",
    "the the the the the the the the",
    "x" * 5000 + " tail words here and there",
]


def _machine_texts(limit: int) -> list[str]:
    """Real documents from this machine: licences and changelogs (gzip'd ones decompressed)."""
    texts: list[str] = []
    paths = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(
        glob.glob("/usr/share/doc/*/changelog*")
    )
    for path in paths:
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
            text = (gzip.decompress(raw) if path.endswith(".gz") else raw).decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        texts.append(text[:30_000])
        if len(texts) == limit:
            break
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    found = _machine_texts(150)
    assert len(found) >= 30
    assert any(not t.isascii() for t in found)  # the non-ASCII path is exercised by real text
    return found + TRICKY


def test_character_table_agrees_with_the_str_methods_for_every_code_point() -> None:
    table = char_table()
    everything = "".join(map(chr, range(0x110000)))
    word = np.zeros(0x110000, dtype=bool)
    word[[m.start() for m in re.finditer(r"\w", everything)]] = True
    classes = table >> _CLASS_SHIFT
    folded = table & _CODE_MASK
    # Classes are those of the folded character; folding never changes them for single folds.
    assert np.array_equal((classes & WORD) > 0, word[folded])
    space = np.array([c.isspace() for c in everything], dtype=bool)
    assert np.array_equal((classes & SPACE) > 0, space[folded])
    rng = random.Random(5)
    for code in [*range(0x250), *rng.sample(range(0x110000), 20_000)]:
        expected = chr(code).casefold()
        if len(expected) == 1:
            assert folded[code] == ord(expected), hex(code)
            assert not classes[code] & MULTI
        else:
            assert classes[code] & MULTI, hex(code)


def test_shingles_equal_the_reference_implementation(texts: list[str]) -> None:
    for size in (1, 3, 5, 9):
        fast = shingle_documents(texts, size)
        reference = reference_shingle_documents(texts, size)
        assert np.array_equal(fast.offsets, reference.offsets), size
        assert np.array_equal(fast.values, reference.values), size


def test_scan_keeps_every_shingle_in_text_order(texts: list[str]) -> None:
    corpus = scan_corpus(texts, 5, 64)
    sets = shingle_documents(texts, 5)
    values, offsets = sorted_unique(corpus.shingles, corpus.offsets)
    assert np.array_equal(values, sets.values)
    assert np.array_equal(offsets, sets.offsets)
    # Repeats are kept: "the the ..." has 4 shingles of 5 words, all equal.
    index = len(texts) - 2
    assert corpus.shingle_counts()[index] == 4
    assert len(sets.of(index)) == 1
    assert scan_corpus(texts, 5).signatures.shape == (len(texts), 0)


def test_scan_signatures_equal_oph_of_the_shingle_sets(texts: list[str]) -> None:
    corpus = scan_corpus(texts, 5, 128)
    assert np.array_equal(corpus.signatures, oph_signatures(shingle_documents(texts, 5), 128))
    # Independent of which documents share the batch.
    order = list(range(len(texts)))
    random.Random(2).shuffle(order)
    shuffled = scan_corpus([texts[i] for i in order], 5, 128)
    assert np.array_equal(shuffled.signatures, corpus.signatures[order])
    assert np.array_equal(shuffled.text_keys, corpus.text_keys[order])


def test_oph_bins_of_small_and_empty_sets() -> None:
    corpus = scan_corpus(["", "one", "one", "two words here", "!!!"], 5, 128)
    sigs = corpus.signatures
    assert (sigs[0] == EMPTY).all()
    assert (sigs[4] == EMPTY).all()
    # A single shingle fills every bin by densification: all bins hold its value.
    assert len(set(sigs[1].tolist())) == 1
    assert np.array_equal(sigs[1], sigs[2])
    assert estimated_jaccard(sigs[1], sigs[3]) < 0.1
    # Any bin count works, not only powers of two.
    odd = scan_corpus(["a b c d e f g h i j k"], 2, 37).signatures
    assert odd.shape == (1, 37)
    assert not (odd == EMPTY).any()


def test_oph_estimates_track_exact_jaccard_on_controlled_overlaps() -> None:
    # Documents built to a known overlap: shared words then private words (1-word shingles).
    rng = random.Random(9)
    texts, expected = [], []
    for _ in range(300):
        shared, own = rng.randint(50, 400), rng.randint(0, 300)
        base = [f"s{rng.randrange(10**9)}" for _ in range(shared)]
        texts.append(" ".join(base + [f"a{rng.randrange(10**9)}" for _ in range(own)]))
        texts.append(" ".join(base + [f"b{rng.randrange(10**9)}" for _ in range(own)]))
        expected.append(shared / (shared + 2 * own))
    sigs = scan_corpus(texts, 1, 128).signatures
    errors = np.array([estimated_jaccard(sigs[2 * k], sigs[2 * k + 1]) - j for k, j in enumerate(expected)])
    assert abs(errors.mean()) < 0.01
    assert np.abs(errors).mean() < 0.04
    assert np.abs(errors).max() < 0.2


def test_pair_jaccard_matches_exact_jaccard_on_unsorted_sets_with_repeats() -> None:
    rng = random.Random(4)
    texts = [
        " ".join(rng.choice(["ab", "cd", "ef", "gh", "ij", "kl"]) for _ in range(rng.randint(0, 80)))
        for _ in range(80)
    ]
    corpus = scan_corpus(texts, 2)
    sets = shingle_documents(texts, 2)
    pairs = np.array([(i, j) for i in range(80) for j in range(80)], dtype=np.int64)
    got = pair_jaccard(corpus.shingles, corpus.offsets, pairs)
    expected = [exact_jaccard(sets.of(i), sets.of(j)) for i, j in pairs.tolist()]
    assert got.tolist() == expected  # bit for bit: same integer counts, same division
    assert len(pair_jaccard(corpus.shingles, corpus.offsets, np.zeros((0, 2), dtype=np.int64))) == 0


def test_text_keys_follow_the_exact_duplicate_definition() -> None:
    variants = [
        "Café au lait, please.",
        "  CAFE\u0301 \t au\n\n\uff2cait,   please. ",
        "café au lait, please.",
    ]
    different = [
        "Café au lait, please!",
        "Café au lait please.",
        "Caféau lait, please.",
        "café au lait, pleas e.",
    ]
    keys = scan_corpus(variants + different, 5).text_keys
    assert len({content_digest(t) for t in variants}) == 1
    assert len(set(keys[:3].tolist())) == 1
    assert len(set(keys.tolist())) == 1 + len(different)


def test_encoding_normalises_only_what_needs_it() -> None:
    buf, offsets = encode_corpus(["ASCII Stays", "Straße", "ﬁ É"])
    parts = [bytes(buf[offsets[i] : offsets[i + 1]]).decode() for i in range(3)]
    # ASCII is left for the kernel to lower-case; ß is case-folded by Python; NFKC elsewhere.
    assert parts == ["ASCII Stays", "strasse", "fi É"]


def test_scan_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="shingle size"):
        scan_corpus(["a"], 0)
    with pytest.raises(ValueError, match="num_bins"):
        scan_corpus(["a"], 5, -1)
