"""Near-duplicate video benchmark: clipsift's aligned frame-hash sequences versus whole-video hashes.

    .venv/bin/python bench/video_dedup.py [--videos 8] [--seconds 20] [--workdir DIR]

Builds N distinct videos (pan-and-zoom shots over scikit-image's photographs, two per video, no
photograph shared) and derives from each the copies of tests/clipsift_testing/footage.py:
re-encoded (480x270, 30 fps, CRF 36), cropped 10% and scaled back, trimmed (3.3 s head, 2.7 s
tail), watermarked (drawtext), letterboxed into 4:3, and all of trim + crop + watermark + re-encode
at once. Every pair of videos is then compared three ways, in one run:

- clipsift: fingerprints (pHash + dHash of the letterbox-trimmed centre at 2 fps) aligned by
  offset voting (video_svc.alignment), near-duplicate when the segments cover >= 50% of a video;
- baseline "average-frame aHash": imagehash.average_hash of the video's mean frame (1 fps),
  a match at Hamming distance <= 10 of 64;
- baseline "videohash-style": imagehash.whash of a collage of frames sampled at 1 fps (the
  method of the videohash package, which does not install offline here), a match at <= 15 of 64.

Prints recall over original-copy pairs (per transform), false matches between distinct
families, how close the reported time ranges are for trimmed copies, and the times. For each
baseline it also prints the best threshold with no false match (an oracle the baseline would not
have in practice), so the comparison is not won by a badly chosen threshold alone.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "services" / "video"))

from clipsift_testing import footage  # noqa: E402

from video_svc.alignment import align  # noqa: E402
from video_svc.dedup_job import fingerprint_video  # noqa: E402
from video_svc.fingerprint import Fingerprint  # noqa: E402
from video_svc.settings import VideoSettings  # noqa: E402


@dataclass(frozen=True)
class Item:
    name: str
    family: int
    transform: str
    path: Path
    start: float  # where the item's content starts in its family's original
    duration: float


def build(workdir: Path, count: int, seconds: float) -> list[Item]:
    items: list[Item] = []
    for index in range(count):
        original = workdir / f"video{index:02d}.mp4"
        if not original.exists():
            footage.render(footage.distinct_shots(index, seconds), original)
        items.append(Item(original.stem, index, "original", original, 0.0, seconds))
        for transform in footage.TRANSFORMS:
            out = workdir / f"video{index:02d}-{transform}.mp4"
            copy = footage.derive(original, seconds, transform, out) if not out.exists() else None
            start, end = (
                (copy.original_start, copy.original_end) if copy else _known_range(transform, seconds)
            )
            items.append(Item(out.stem, index, transform, out, start, end - start))
    return items


def _known_range(transform: str, seconds: float) -> tuple[float, float]:
    """The range derive() cuts for ``transform`` (for copies built by an earlier run)."""
    return {"trim": (3.3, seconds - 2.7), "combined": (2.1, seconds - 4.4)}.get(transform, (0.0, seconds))


def grey_frames(path: Path, fps: float, side: int = 64) -> np.ndarray:
    raw = subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path)),
            *("-vf", f"fps={fps},scale={side}:{side}", "-f", "rawvideo", "-pix_fmt", "gray", "-"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, side, side)


def average_frame_hash(path: Path) -> int:
    import imagehash
    from PIL import Image

    mean = grey_frames(path, 1.0).mean(axis=0).astype(np.uint8)
    return int(str(imagehash.average_hash(Image.fromarray(mean))), 16)


def collage_hash(path: Path) -> int:
    """videohash's method: frames at 1 fps tiled into a square collage, wavelet-hashed."""
    import imagehash
    from PIL import Image

    frames = grey_frames(path, 1.0, 144)
    side = int(np.ceil(np.sqrt(len(frames))))
    canvas = np.zeros((side * 144, side * 144), np.uint8)
    for n, frame in enumerate(frames):
        r, c = divmod(n, side)
        canvas[r * 144 : (r + 1) * 144, c * 144 : (c + 1) * 144] = frame
    return int(str(imagehash.whash(Image.fromarray(canvas))), 16)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def report_trim_offsets(
    positives: list[tuple[Item, Item]], matches: dict[tuple[str, str], Any], step: float
) -> None:
    """Where each trimmed copy starts in its original, as reported, against where it really does."""
    errors = []
    for a, b in positives:
        match = matches[(a.name, b.name)]
        if b.transform in ("trim", "combined") and match is not None:
            first = min(match.segments, key=lambda s: s.a_start)
            errors.append(abs(first.a_start - b.start))
    if errors:
        print(
            f"\ntrimmed copies: reported start in the original off by mean {np.mean(errors):.2f}s, "
            f"max {np.max(errors):.2f}s (sampling step {step:.2f}s)"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--videos", type=int, default=8, help="distinct videos (at most 10)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workdir", type=Path, help="keep the built footage here (reused by later runs)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="clipsift-video-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    items = build(workdir, args.videos, args.seconds)
    print(
        f"{len(items)} videos ({args.videos} distinct x {1 + len(footage.TRANSFORMS)}) "
        f"in {workdir}, built in {time.perf_counter() - started:.0f}s"
    )

    settings = VideoSettings(  # the service's defaults; connection fields are unused here
        nats_url="nats://unused", database_url="postgresql://unused", blob_dir=workdir / "blobs",
        audio_target="unused:1", vision_target="unused:1",
    )  # fmt: skip
    params = settings.align_params()

    t = time.perf_counter()
    prints: dict[str, Fingerprint] = {}
    for item in items:
        prints[item.name] = asyncio.run(fingerprint_video(item.path, item.duration, settings))
    fingerprint_s = time.perf_counter() - t
    t = time.perf_counter()
    average = {item.name: average_frame_hash(item.path) for item in items}
    average_s = time.perf_counter() - t
    t = time.perf_counter()
    collage = {item.name: collage_hash(item.path) for item in items}
    collage_s = time.perf_counter() - t

    pairs = list(itertools.combinations(items, 2))
    t = time.perf_counter()
    matches = {(a.name, b.name): align(prints[a.name], prints[b.name], params) for a, b in pairs}
    align_s = time.perf_counter() - t

    def clipsift_says(a: Item, b: Item) -> bool:
        match = matches[(a.name, b.name)]
        return match is not None and match.score >= settings.near_duplicate_min_coverage

    positives = [(a, b) for a, b in pairs if a.family == b.family and a.transform == "original"]
    family = [(a, b) for a, b in pairs if a.family == b.family]
    negatives = [(a, b) for a, b in pairs if a.family != b.family]

    def recall(decide: object, among: list[tuple[Item, Item]]) -> float:
        return sum(1 for a, b in among if decide(a, b)) / len(among)  # type: ignore[operator]

    def false_matches(decide: object) -> int:
        return sum(1 for a, b in negatives if decide(a, b))  # type: ignore[operator]

    def threshold_rule(hashes: dict[str, int], limit: int) -> object:
        return lambda a, b: hamming(hashes[a.name], hashes[b.name]) <= limit

    def oracle(hashes: dict[str, int]) -> tuple[int, float]:
        """The largest threshold with no false match, and the recall it gets."""
        closest_negative = min(hamming(hashes[a.name], hashes[b.name]) for a, b in negatives)
        limit = closest_negative - 1
        return limit, recall(threshold_rule(hashes, limit), positives)

    methods = {
        "clipsift aligned pHash+dHash": clipsift_says,
        "baseline average-frame aHash <=10": threshold_rule(average, 10),
        "baseline videohash-style whash <=15": threshold_rule(collage, 15),
    }
    print(
        f"\n{len(positives)} original-copy pairs, {len(family)} same-family pairs, "
        f"{len(negatives)} distinct pairs"
    )
    print(
        f"{'method':<38} {'recall':>7} {'family':>7} {'false':>6}   "
        + "  ".join(f"{t[:9]:>9}" for t in footage.TRANSFORMS)
    )
    for name, decide in methods.items():
        per_transform = [
            recall(decide, [(a, b) for a, b in positives if b.transform == tr]) for tr in footage.TRANSFORMS
        ]
        print(
            f"{name:<38} {recall(decide, positives):7.3f} {recall(decide, family):7.3f} "
            f"{false_matches(decide):6d}   " + "  ".join(f"{r:9.2f}" for r in per_transform)
        )
    for name, hashes in (("average-frame aHash", average), ("videohash-style whash", collage)):
        limit, best = oracle(hashes)
        if limit < 0:
            print(f"  {name}: no threshold avoids false matches (two distinct videos hash identically)")
        else:
            print(f"  oracle threshold for {name}: <= {limit} gives recall {best:.3f} with 0 false matches")

    report_trim_offsets(positives, matches, 1 / settings.fingerprint_fps)
    minutes = sum(i.duration for i in items) / 60
    print(
        f"\ntimes: clipsift fingerprint {fingerprint_s:.1f}s "
        f"({fingerprint_s / minutes:.2f}s per video minute), "
        f"align {align_s:.2f}s for {len(pairs)} pairs ({1000 * align_s / len(pairs):.2f} ms/pair); "
        f"baselines: average-frame {average_s:.1f}s, collage {collage_s:.1f}s; "
        f"fingerprint/baseline ratio {fingerprint_s / average_s:.2f}x"
    )


if __name__ == "__main__":
    main()
