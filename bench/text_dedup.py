"""Near-duplicate detection: clipsift's detector versus datasketch MinHashLSH, on real text.

Both sides run single-threaded in this process, alternately (``--repeats`` rounds, the order
flipped every round), each timed end to end from the raw texts (shingling included) in wall-clock
and in CPU time of this process; the medians are compared. The machine is shared: CPU time is
the steadier measure when other work competes for the cores.

Corpus: text files already on this machine that nobody here wrote (Debian's /usr/share/doc,
gzip'd changelogs included, man pages, Python's standard library), cut into documents of 1-20 KB
at paragraph breaks, plus deterministic perturbations (word drops, swaps, inserts, truncation)
of a share of them. Ground truth: exact Jaccard over the same 5-word shingles for every pair that
can reach the threshold. Candidates come from an inverted index over each set's prefix (rarest
shingles first, |A| - ceil(t|A|) + 1 of them): two sets with Jaccard >= t must share a shingle in
both prefixes, so the truth is complete without indexing every common shingle.

    .venv/bin/python bench/text_dedup.py --mb 50
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from text_svc.dedup.detector import Detector
from text_svc.dedup.scan import warm_up
from text_svc.dedup.shingles import ShingleSets, exact_jaccard, reference_shingle_documents
from text_svc.settings import TextSettings

THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5
SOURCES = [Path("/usr/share/doc"), Path("/usr/share/man"), Path(sys.base_prefix) / "lib"]
_WORD = re.compile(r"\w+")


def _files() -> Iterator[Path]:
    for root in SOURCES:
        for path in sorted(root.rglob("*")):
            if (
                path.is_file()
                and not path.is_symlink()
                and path.suffix not in {".pyc", ".so", ".png", ".jpg"}
            ):
                yield path


def _read(path: Path) -> str | None:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    return text if "\x00" not in text else None


def build_corpus(target_bytes: int, seed: int) -> list[str]:
    """Real documents of 1-20 KB, cut at paragraph breaks, until ``target_bytes`` of UTF-8."""
    rng = random.Random(seed)
    documents: list[str] = []
    total, counted = 0, 0  # bytes in documents[:counted]
    for path in _files():
        text = _read(path)
        if not text:
            continue
        size, current = rng.randint(1024, 20480), ""
        for paragraph in re.split(r"\n\s*\n", text):
            current = f"{current}\n\n{paragraph}" if current else paragraph
            if len(current) >= size:
                documents.append(current[:20480])
                current, size = "", rng.randint(1024, 20480)
        if len(current) >= 1024:
            documents.append(current)
        if sum(len(d.encode()) for d in documents[counted:]) + total >= target_bytes:
            break
        total += sum(len(d.encode()) for d in documents[counted:])
        counted = len(documents)
    documents = [d for d in documents if len(_WORD.findall(d)) >= 50]
    while sum(len(d.encode()) for d in documents) > target_bytes and len(documents) > 1:
        documents.pop()
    return documents


def perturb(text: str, rng: random.Random) -> str:
    """A near copy: a few words dropped, swapped and inserted, sometimes the tail cut off."""
    words = text.split()
    for _ in range(rng.randint(0, max(1, len(words) // 100))):
        del words[rng.randrange(len(words))]
    for _ in range(rng.randint(0, max(1, len(words) // 150))):
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    for _ in range(rng.randint(0, max(1, len(words) // 150))):
        words.insert(rng.randrange(len(words)), rng.choice(("lorem", "ipsum", "extra", "note", "see")))
    if rng.random() < 0.3:
        words = words[: max(50, int(len(words) * rng.uniform(0.85, 1.0)))]
    return " ".join(words)


def ground_truth(sets: ShingleSets, threshold: float) -> dict[tuple[int, int], float]:
    """Every pair with exact Jaccard >= threshold (prefix-filtered inverted index, then exact)."""
    values, counts = np.unique(sets.values, return_counts=True)
    frequency = counts[np.searchsorted(values, sets.values)]
    tokens: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for doc in range(len(sets)):
        lo, hi = sets.offsets[doc], sets.offsets[doc + 1]
        size = int(hi - lo)
        if size == 0:
            continue
        prefix = size - math.ceil(threshold * size - 1e-9) + 1
        # Global order: rarest shingle first, hash as tie-break.
        order = np.lexsort((sets.values[lo:hi], frequency[lo:hi]))[:prefix]
        tokens.append(sets.values[lo:hi][order])
        owners.append(np.full(len(order), doc, dtype=np.int64))
    token = np.concatenate(tokens)
    owner = np.concatenate(owners)
    order = np.argsort(token, kind="stable")
    token, owner = token[order], owner[order]
    bounds = np.flatnonzero(np.diff(token)) + 1
    candidates: set[tuple[int, int]] = set()
    for group in np.split(owner, bounds):
        if len(group) > 1:
            candidates.update(combinations(sorted(set(group.tolist())), 2))
    sizes = sets.sizes()
    truth = {}
    for i, j in candidates:
        if min(sizes[i], sizes[j]) < threshold * max(sizes[i], sizes[j]):
            continue  # size filter: cannot reach the threshold
        similarity = exact_jaccard(sets.of(i), sets.of(j))
        if similarity >= threshold:
            truth[(i, j)] = similarity
    return truth


@dataclass(frozen=True)
class Run:
    pairs: set[tuple[int, int]]
    wall: float
    cpu: float


def _datasketch_shingles(texts: list[str]) -> Iterator[list[bytes]]:
    for text in texts:
        words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
        shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
        yield [s.encode("utf-8") for s in shingles]


def run_datasketch(texts: list[str]) -> Run:
    """datasketch as its documentation recommends for many sets: ``MinHash.generator`` (shared
    permutations) and an LSH insertion session."""
    wall, cpu = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    hashes = list(MinHash.generator(_datasketch_shingles(texts), num_perm=NUM_PERM))
    with lsh.insertion_session() as session:
        for index, minhash in enumerate(hashes):
            session.insert(index, minhash)
    pairs = {(min(i, j), max(i, j)) for i, m in enumerate(hashes) for j in lsh.query(m) if i != j}
    return Run(pairs, time.perf_counter() - wall, time.process_time() - cpu)


def run_clipsift(texts: list[str], detector: Detector) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    result, _ = detector.find_duplicates([str(i) for i in range(len(texts))], texts, THRESHOLD, SHINGLE)
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    # Exact groups are reported as n - 1 pairs (each member with the first); every pair inside a
    # group is a true duplicate (Jaccard 1), so score all of them.
    pairs = {(i, j) for i, j, _ in result.pairs}
    for members in result.exact_groups:
        pairs.update(combinations(members, 2))
    return Run(pairs, *elapsed)


def _scores(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hits = len(found & truth)
    return hits / len(found) if found else 1.0, hits / len(truth) if truth else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=50.0, help="corpus size before perturbed copies")
    parser.add_argument("--perturbed", type=float, default=0.1, help="share of documents given a near copy")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of both sides")
    args = parser.parse_args()

    originals = build_corpus(int(args.mb * 1e6), args.seed)
    rng = random.Random(args.seed)
    chosen = rng.sample(range(len(originals)), int(len(originals) * args.perturbed))
    texts = originals + [perturb(originals[i], rng) for i in sorted(chosen)]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    print(
        f"corpus: {len(texts)} documents, {megabytes:.1f} MB ({len(originals)} real, {len(chosen)} perturbed)"
    )

    t0 = time.perf_counter()
    # Truth from the plain reference shingling, independent of the compiled pass under test.
    truth = set(ground_truth(reference_shingle_documents(texts, SHINGLE), THRESHOLD))
    print(f"truth: {len(truth)} pairs with Jaccard >= {THRESHOLD} ({time.perf_counter() - t0:.1f} s)")

    detector = Detector(TextSettings(nats_url="nats://unused", blob_dir=Path("/tmp"), num_perm=NUM_PERM))  # type: ignore[call-arg]
    # Warm-up, as a running service is: compiled kernels and character tables (the service does
    # this at start), datasketch's imports and first MinHash.
    warm_up()
    detector.find_duplicates(["a", "b"], ["warm up the lsh parameters", "and numpy"], THRESHOLD)
    run_datasketch(texts[:20])
    runs: dict[str, list[Run]] = {"datasketch": [], "clipsift": []}
    for round_ in range(args.repeats):
        order = ["clipsift", "datasketch"] if round_ % 2 == 0 else ["datasketch", "clipsift"]
        for name in order:
            run = run_clipsift(texts, detector) if name == "clipsift" else run_datasketch(texts)
            runs[name].append(run)
            print(f"  round {round_ + 1} {name:>10}: {run.wall:6.2f} s wall  {run.cpu:6.2f} s cpu")
    medians = {}
    for name, done in runs.items():
        assert all(run.pairs == done[0].pairs for run in done), f"{name} is not deterministic"
        wall = statistics.median(run.wall for run in done)
        cpu = statistics.median(run.cpu for run in done)
        medians[name] = (wall, cpu)
        precision, recall = _scores(done[0].pairs, truth)
        print(
            f"{name:>10}: median {wall:6.2f} s wall ({megabytes / wall:6.2f} MB/s), "
            f"{cpu:6.2f} s cpu ({megabytes / cpu:6.2f} MB/s)  "
            f"pairs {len(done[0].pairs):6d}  precision {precision:.4f}  recall {recall:.4f}"
        )
    (their_wall, their_cpu), (our_wall, our_cpu) = medians["datasketch"], medians["clipsift"]
    print(
        f"speed ratio clipsift / datasketch over {args.repeats} rounds (medians): "
        f"wall {their_wall / our_wall:.1f}x, cpu {their_cpu / our_cpu:.1f}x"
    )


if __name__ == "__main__":
    main()
