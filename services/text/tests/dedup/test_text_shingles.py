"""Tokenisation, token hashing and shingle sets."""

from __future__ import annotations

import time

import numpy as np
import pytest

from text_svc.dedup.shingles import exact_jaccard, hash_tokens, normalize, shingle_documents, tokenize


def test_normalize_folds_width_and_case() -> None:
    fullwidth_abc = "\uff21\uff22\uff23"  # FULLWIDTH LATIN CAPITAL LETTERs A, B, C
    assert normalize(f"{fullwidth_abc} Straße ǅ") == "abc strasse dž"
    assert tokenize(f"{fullwidth_abc}, abc!  Abc") == ["abc", "abc", "abc"]


def test_tokenize_splits_on_non_word_characters() -> None:
    assert tokenize("Hello, world -- it's 2024; naïve café_bar") == [
        "hello",
        "world",
        "it",
        "s",
        "2024",
        "naïve",
        "café_bar",
    ]
    assert tokenize("!!! ... ---") == []
    assert tokenize("") == []


def test_token_hashes_are_stable_and_independent_of_the_batch() -> None:
    words = ["a", "bb", "hello", "wörld", "日本語", "x" * 40, "y" * 300, "z" * 5000]
    alone = np.array([hash_tokens([w])[0] for w in words], dtype=np.uint64)
    together = hash_tokens(words)
    reordered = hash_tokens(list(reversed(words)))[::-1]
    assert together.dtype == np.uint64
    assert np.array_equal(alone, together)
    assert np.array_equal(alone, reordered)
    # Different tokens get different hashes; equal tokens equal ones.
    assert len(set(together.tolist())) == len(words)
    assert np.array_equal(hash_tokens(["hello", "hello"]), np.repeat(hash_tokens(["hello"]), 2))
    # A token must not collide with its prefix (zero padding is skipped, not hashed).
    assert hash_tokens(["ab"])[0] != hash_tokens(["abc"])[0]
    assert len(hash_tokens([])) == 0


def test_token_hashes_do_not_depend_on_the_longest_token_of_the_batch() -> None:
    words = [f"w{i}" for i in range(2000)]
    short_only = hash_tokens(words)
    with_long = hash_tokens([*words, "q" * 200_000])
    assert np.array_equal(short_only, with_long[:-1])


def test_one_long_token_does_not_make_hashing_quadratic() -> None:
    # A base64 blob inside one document used to pad every token of the batch to its width.
    words = [f"word{i}" for i in range(50_000)]
    start = time.perf_counter()
    hash_tokens([*words, "b" * 100_000])
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize(("n_words", "k"), [(10, 5), (5, 5), (6, 1), (40, 32), (33, 32)])
def test_shingle_count_is_words_minus_k_plus_one(n_words: int, k: int) -> None:
    text = " ".join(f"w{i}" for i in range(n_words))  # all words distinct: no shingle repeats
    sets = shingle_documents([text], k)
    assert len(sets) == 1
    assert sets.sizes().tolist() == [n_words - k + 1]


def test_text_shorter_than_k_is_one_shingle_and_no_words_is_empty() -> None:
    sets = shingle_documents(["one two", "single", "!!!", ""], 5)
    assert sets.sizes().tolist() == [1, 1, 0, 0]
    assert len(sets.of(2)) == 0


def test_repeated_shingles_are_deduplicated_and_sorted() -> None:
    sets = shingle_documents(["a b a b a b a b", "the cat the cat"], 2)
    # "a b", "b a" only; "the cat", "cat the" only.
    assert sets.sizes().tolist() == [2, 2]
    for i in range(len(sets)):
        values = sets.of(i)
        assert bool(np.all(values[1:] > values[:-1]))
        assert np.array_equal(values, np.unique(values))


def test_shingles_are_order_sensitive_and_normalised() -> None:
    sets = shingle_documents(["alpha beta gamma", "gamma beta alpha", "ALPHA, Beta; gamma!"], 2)
    assert exact_jaccard(sets.of(0), sets.of(1)) == 0.0
    assert np.array_equal(sets.of(0), sets.of(2))


def test_shingle_sets_do_not_depend_on_batch_composition() -> None:
    texts = ["the quick brown fox jumps", "lorem ipsum dolor sit amet consectetur", "x"]
    together = shingle_documents(texts, 3)
    for i, text in enumerate(texts):
        assert np.array_equal(together.of(i), shingle_documents([text], 3).of(0))
    assert together.offsets[0] == 0
    assert together.offsets[-1] == len(together.values)


def test_exact_jaccard_values() -> None:
    a = np.array([1, 2, 3, 4], dtype=np.uint64)
    b = np.array([3, 4, 5, 6], dtype=np.uint64)
    empty = np.zeros(0, dtype=np.uint64)
    assert exact_jaccard(a, b) == pytest.approx(2 / 6)
    assert exact_jaccard(a, a) == 1.0
    assert exact_jaccard(a, np.array([7, 8], dtype=np.uint64)) == 0.0
    assert exact_jaccard(a, empty) == 0.0
    assert exact_jaccard(empty, empty) == 1.0


def test_exact_jaccard_of_shingled_texts_matches_python_sets() -> None:
    first = "one two three four five six seven eight"
    second = "one two three four five six nine ten"
    sets = shingle_documents([first, second], 3)
    words_a, words_b = first.split(), second.split()
    tri_a = {tuple(words_a[i : i + 3]) for i in range(len(words_a) - 2)}
    tri_b = {tuple(words_b[i : i + 3]) for i in range(len(words_b) - 2)}
    expected = len(tri_a & tri_b) / len(tri_a | tri_b)
    assert exact_jaccard(sets.of(0), sets.of(1)) == pytest.approx(expected)
