"""Near-duplicate images: clipsift's multi-hash + embedding matching versus imagehash used directly.

Data (bench/image_dataset.py): real photographs bundled with scikit-image and scikit-learn, plus
tiles of the larger ones, each with ten transformed copies (resize down/up, JPEG 30/70, crops
keeping 90%/80% per side, brightness x1.3/x0.7, watermark, mirror). Truth: same base image.

Two protocols, both run for both methods in one process:

- query: the originals form the index; every transformed copy is looked up in it. Per
  transformation, recall = copies whose own original was returned, precision = returned
  originals that were the right one.
- set: every image of the set at once, clustered (connected components of matching pairs, as
  FindDuplicateImages does); pairwise precision/recall over all pairs of the set.

imagehash: ``imagehash.phash`` of the decoded image, match at Hamming distance <= its threshold
(the best F1 of a sweep on this set, so the baseline is at its best). clipsift: the vision
service's own code path (decode with draft scaling, pHash/dHash/wHash of both orientations,
MobileNetV2 embeddings batched, ``duplicates.compare`` with the service's default thresholds,
and for queries the index's candidate filter). Throughput: signatures per second from encoded
bytes, single process, the same images for each method.

    .venv/bin/python bench/image_dedup.py
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_dataset import TRANSFORMS, Sample, build_dataset

from vision_svc.decode import DecodeLimits, decode_bytes
from vision_svc.duplicates import (
    Signature,
    SignatureMatrix,
    Thresholds,
    compare,
    find_clusters,
    leader_clusters,
)
from vision_svc.duplicates_servicer import default_thresholds
from vision_svc.embedding import Embedder, preprocess
from vision_svc.hashing import hashes_of
from vision_svc.settings import VisionSettings

Scores = dict[str, tuple[int, int, int]]  # transformation -> (tp, fp, fn)


def imagehash_signatures(samples: list[Sample]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    hashes = []
    for sample in samples:
        with Image.open(io.BytesIO(sample.encoded)) as image:
            bits = imagehash.phash(image).hash.reshape(-1)
        hashes.append(int("".join("1" if b else "0" for b in bits), 2))
    return np.array(hashes, dtype=np.uint64), time.perf_counter() - start


def clipsift_signatures(
    samples: list[Sample], settings: VisionSettings, embedder: Embedder | None, batch: int
) -> tuple[list[Signature], float]:
    limits = DecodeLimits(settings.max_image_bytes, settings.max_image_pixels, settings.signature_max_side)
    start = time.perf_counter()
    decoded = [decode_bytes(sample.encoded, sample.id, limits).pixels for sample in samples]
    hashes = [hashes_of(pixels) for pixels in decoded]
    embeddings: list[np.ndarray | None] = [None] * len(samples)
    if embedder is not None:
        for first in range(0, len(decoded), batch):
            chunk = decoded[first : first + batch]
            embeddings[first : first + batch] = embedder.embed([preprocess(p) for p in chunk])
    elapsed = time.perf_counter() - start
    return [Signature(h, e) for h, e in zip(hashes, embeddings, strict=True)], elapsed


def _popcount_matrix(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from vision_svc.hashing import hamming_matrix

    return hamming_matrix(left, right).astype(np.int32)


def best_phash_threshold(samples: list[Sample], hashes: np.ndarray) -> int:
    bases = np.array([s.base for s in samples])
    same = bases[:, None] == bases[None, :]
    distances = _popcount_matrix(hashes, hashes)
    upper = np.triu(np.ones_like(same), k=1).astype(bool)
    best, best_f1 = 0, -1.0
    for threshold in range(0, 33):
        predicted = (distances <= threshold) & upper
        tp = int((predicted & same).sum())
        fp = int((predicted & ~same).sum())
        fn = int((~predicted & same & upper).sum())
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if f1 > best_f1:
            best, best_f1 = threshold, f1
    return best


def query_scores(samples: list[Sample], matches: np.ndarray) -> Scores:
    """``matches[q, o]``: query ``q`` (a transformed copy) matched original ``o``."""
    originals = [i for i, s in enumerate(samples) if s.transform == "original"]
    queries = [i for i, s in enumerate(samples) if s.transform != "original"]
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row, q in enumerate(queries):
        found = {samples[originals[col]].base for col in np.flatnonzero(matches[row])}
        score = scores[samples[q].transform]
        hit = samples[q].base in found
        score[0] += hit
        score[2] += not hit
        score[1] += len(found - {samples[q].base})
    return {name: (s[0], s[1], s[2]) for name, s in scores.items()}


def set_scores(samples: list[Sample], cluster_of: list[int]) -> tuple[float, float]:
    bases = np.array([s.base for s in samples])
    clusters = np.array(cluster_of)
    upper = np.triu(np.ones((len(samples), len(samples)), dtype=bool), k=1)
    truth = (bases[:, None] == bases[None, :]) & upper
    predicted = (clusters[:, None] == clusters[None, :]) & (clusters[:, None] >= 0) & upper
    tp = int((truth & predicted).sum())
    return tp / max(1, int(predicted.sum())), tp / max(1, int(truth.sum()))


def cluster_labels(count: int, clusters: list[list[int]]) -> list[int]:
    """Cluster number per image; -1 for images in no cluster."""
    labels = [-1] * count
    for number, members in enumerate(clusters):
        for member in members:
            labels[member] = number
    return labels


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16, help="embedding batch size")
    args = parser.parse_args()
    settings = VisionSettings()
    thresholds = default_thresholds(settings)

    start = time.perf_counter()
    samples = build_dataset()
    bases = len({s.base for s in samples})
    print(
        f"dataset: {len(samples)} images ({bases} base photos x (original + {len(TRANSFORMS)} copies)) "
        f"built in {time.perf_counter() - start:.1f}s"
    )

    embedder = Embedder(settings.embedding_model, "cpu")
    embedder.load()
    baseline_hashes, baseline_seconds = imagehash_signatures(samples)
    _, hashes_only_seconds = clipsift_signatures(samples, settings, None, args.batch)
    signatures, full_seconds = clipsift_signatures(samples, settings, embedder, args.batch)

    threshold = best_phash_threshold(samples, baseline_hashes)
    originals = [i for i, s in enumerate(samples) if s.transform == "original"]
    queries = [i for i, s in enumerate(samples) if s.transform != "original"]

    # Query protocol.
    baseline_query = _popcount_matrix(baseline_hashes[queries], baseline_hashes[originals]) <= threshold
    comparison = compare(
        SignatureMatrix([signatures[i] for i in queries]), SignatureMatrix([signatures[i] for i in originals])
    )
    matched, _ = comparison.matches(thresholds)
    clipsift_query = matched & comparison.candidates(thresholds, settings.index_candidate_hash_sum)
    hashes_only = Thresholds(**{**thresholds.__dict__, "use_embeddings": False})
    hashes_query, _ = comparison.matches(hashes_only)
    per_method = {
        f"imagehash pHash<={threshold}": query_scores(samples, baseline_query),
        "clipsift hashes only": query_scores(samples, hashes_query),
        "clipsift hashes+embedding": query_scores(samples, clipsift_query),
    }

    print(f"\nquery protocol: {len(queries)} copies looked up among {len(originals)} originals")
    print("precision / recall per transformation")
    names = list(per_method)
    print(f"{'transformation':<14}" + "".join(f"{name:>30}" for name in names))
    totals = {name: [0, 0, 0] for name in names}
    for transform in TRANSFORMS:
        cells = []
        for name in names:
            tp, fp, fn = per_method[name][transform]
            for k, v in enumerate((tp, fp, fn)):
                totals[name][k] += v
            p, r = _pr(tp, fp, fn)
            cells.append(f"{p:.3f} / {r:.3f}")
        print(f"{transform:<14}" + "".join(f"{c:>30}" for c in cells))
    overall = ["{:.3f} / {:.3f}".format(*_pr(*totals[name])) for name in names]
    print(f"{'overall':<14}" + "".join(f"{cell:>30}" for cell in overall))

    # Set protocol: the same (leader) clustering for both methods.
    baseline_clusters = leader_clusters(_popcount_matrix(baseline_hashes, baseline_hashes) <= threshold)
    baseline_set = set_scores(samples, cluster_labels(len(samples), baseline_clusters))
    clusters = [cluster.members for cluster in find_clusters(signatures, thresholds)]
    clipsift_set = set_scores(samples, cluster_labels(len(samples), clusters))
    pairs = len(samples) * (len(samples) - 1) // 2
    print(f"\nset protocol: all {len(samples)} images clustered at once, pairwise over {pairs} pairs")
    print(f"  imagehash pHash<={threshold}: precision {baseline_set[0]:.3f} recall {baseline_set[1]:.3f}")
    print(f"  clipsift hashes+embedding: precision {clipsift_set[0]:.3f} recall {clipsift_set[1]:.3f}")

    n = len(samples)
    print("\nthroughput (signatures from encoded bytes, this process, noisy shared machine)")
    print(f"  imagehash pHash:              {n / baseline_seconds:7.1f} images/s")
    print(
        f"  clipsift 3 hashes x 2 orient: {n / hashes_only_seconds:7.1f} images/s "
        f"({baseline_seconds / hashes_only_seconds:.2f}x imagehash)"
    )
    print(
        f"  clipsift hashes + embedding:  {n / full_seconds:7.1f} images/s "
        f"({baseline_seconds / full_seconds:.2f}x imagehash)"
    )
    print(f"\nthresholds: {thresholds}")


if __name__ == "__main__":
    main()
