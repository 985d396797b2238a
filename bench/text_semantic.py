"""Semantic embedding throughput: clipsift's embedding path versus sentence-transformers directly.

Both sides embed the same paragraphs of real text already on this machine (/usr/share/common-licenses
and /usr/share/doc) with the same all-MiniLM-L6-v2 on the same device, in one run:

- direct: ``SentenceTransformer.encode`` on the whole list, at each of batch sizes 8/16/32/64/128;
  the fastest (by median) is the baseline;
- clipsift: the service's ``Embedder`` (every text through the ``MicroBatcher``) with the service's
  default settings, called as the service is: concurrent requests of ``--per-request`` documents
  each, and one request holding every document.

Every configuration runs once per round after a warm-up, in an order rotated each round; rates are
medians over ``--rounds`` (the machine is shared and noisy).

    .venv/bin/python bench/text_semantic.py --docs 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from text_svc.embeddings import Embedder, EmbeddingModel
from text_svc.settings import TextSettings

ROOTS = (Path("/usr/share/common-licenses"), Path("/usr/share/doc"))
BATCH_SIZES = (8, 16, 32, 64, 128)


def _files() -> Iterator[Path]:
    for root in ROOTS:
        yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def paragraphs(count: int) -> list[str]:
    """``count`` distinct paragraphs of 80-2000 characters, in a fixed order."""
    seen: set[str] = set()
    found: list[str] = []
    for path in _files():
        try:
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError, gzip.BadGzipFile, EOFError):
            continue
        for block in re.split(r"\n\s*\n", text):
            paragraph = " ".join(block.split())
            if 80 <= len(paragraph) <= 2000 and paragraph not in seen:
                seen.add(paragraph)
                found.append(paragraph)
                if len(found) == count:
                    return found
    raise SystemExit(f"only {len(found)} paragraphs found, {count} wanted")


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float


def timed(fn: Callable[[], object]) -> Sample:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu)


async def _through_embedder(
    model: EmbeddingModel, settings: TextSettings, texts: list[str], per_request: int
) -> None:
    embedder = Embedder(settings, model)
    try:
        await asyncio.gather(
            *(embedder.embed(texts[i : i + per_request]) for i in range(0, len(texts), per_request))
        )
    finally:
        await embedder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--per-request", type=int, default=20, help="documents per concurrent request")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every configuration")
    parser.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"])
    args = parser.parse_args()

    texts = paragraphs(args.docs)
    chars = sum(len(t) for t in texts)
    with tempfile.TemporaryDirectory() as blob_dir:
        settings = TextSettings(
            nats_url="nats://unused", blob_dir=Path(blob_dir), embedding_device=args.device
        )
    model = EmbeddingModel(settings.embedding_model, settings.embedding_device)
    print(f"{len(texts)} paragraphs, {chars / len(texts):.0f} characters on average")
    print(f"model {model.name}, device {model.device}, torch threads {torch.get_num_threads()}")

    configs: dict[str, Callable[[], object]] = {
        f"direct batch_size={size}": (lambda size=size: model.encode(texts, batch_size=size))
        for size in BATCH_SIZES
    }
    configs[f"clipsift, {-(-len(texts) // args.per_request)} concurrent requests of {args.per_request}"] = (
        lambda: asyncio.run(_through_embedder(model, settings, texts, args.per_request))
    )
    configs[f"clipsift, one request of {len(texts)}"] = lambda: asyncio.run(
        _through_embedder(model, settings, texts, len(texts))
    )
    # Warm-up: first calls allocate and pick kernels; not what a running service pays.
    model.encode(texts[:64], batch_size=32)
    asyncio.run(_through_embedder(model, settings, texts[:64], 16))
    samples: dict[str, list[Sample]] = {name: [] for name in configs}
    names = list(configs)
    for round_ in range(args.rounds):
        # Rotate the order each round so no configuration always runs first or last.
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timed(configs[name]))
    rate = {name: len(texts) / statistics.median(s.wall for s in runs) for name, runs in samples.items()}
    cpu_rate = {name: len(texts) / statistics.median(s.cpu for s in runs) for name, runs in samples.items()}
    for name in names:
        walls = ", ".join(f"{len(texts) / s.wall:.1f}" for s in samples[name])
        print(f"{name:<45} median {rate[name]:7.1f}/s wall, {cpu_rate[name]:7.1f}/s cpu  (rounds: {walls})")
    best = max((n for n in names if n.startswith("direct")), key=rate.__getitem__)
    print(f"best direct: {best} ({rate[best]:.1f}/s); ratios of medians (target >= 0.90):")
    for name in names:
        if name.startswith("clipsift"):
            # Also paired by round (the same round's direct run), which cancels slow load drift.
            paired = statistics.median(
                d.wall / c.wall for c, d in zip(samples[name], samples[best], strict=True)
            )
            print(
                f"  {name}: {rate[name] / rate[best]:.3f} wall, {cpu_rate[name] / cpu_rate[best]:.3f} cpu, "
                f"{paired:.3f} median of per-round wall ratios"
            )


if __name__ == "__main__":
    main()
