"""Run-on sentences (punctuation dropped by the speech model) are cut so they can still be clipped."""

from __future__ import annotations

from video_svc.candidates import candidate_clips
from video_svc.model import Word
from video_svc.transcript import sentences, split_long


def _timed(texts: list[str], pauses: dict[int, float], seconds_per_word: float = 0.4) -> list[Word]:
    """Words back to back, with an extra pause after the word of each index in ``pauses``."""
    words, t = [], 0.0
    for index, text in enumerate(texts):
        words.append(Word(text, t, t + seconds_per_word - 0.05))
        t += seconds_per_word + pauses.get(index, 0.0)
    return words


def test_a_run_on_sentence_is_cut_at_its_longest_pauses_until_every_piece_fits():
    texts = [f"w{i}" for i in range(150)]  # 60 s without a full stop
    texts[39] += ","
    texts[99] += ","
    words = _timed(texts, {39: 0.5, 99: 0.6, 120: 0.2})
    (run_on,) = sentences(words)
    assert run_on.end - run_on.start > 60
    assert candidate_clips([run_on], 12, 30) == []  # as it was: nothing to clip

    pieces = split_long([run_on], 30.0)
    assert [p.words[-1].text for p in pieces] == ["w39,", "w99,", "w149"]
    assert [w for p in pieces for w in p.words] == list(run_on.words)  # nothing lost or reordered
    assert all(p.end - p.start <= 30.0 for p in pieces)
    assert candidate_clips(pieces, 12, 30)


def test_a_comma_wins_over_a_slightly_longer_pause_and_short_sentences_stay_whole():
    texts = [f"w{i}" for i in range(90)]  # 36 s
    texts[30] += ","
    words = _timed(texts, {30: 0.2, 60: 0.35})
    pieces = split_long(sentences(words), 30.0)
    assert [len(p.words) for p in pieces] == [31, 59]

    short = sentences(_timed(["One", "two", "three."], {}))
    assert split_long(short, 30.0) == short
