"""Semantic embedding throughput: clipsift's embedding path versus sentence-transformers directly.

Both sides embed the same paragraphs of real text already on this machine (/usr/share/common-licenses
and /usr/share/doc) with the same all-MiniLM-L6-v2 on the same device, in one run:

- direct: ``SentenceTransformer.encode`` on the whole list, at each of batch sizes 16/32/64/128;
  the fastest is the baseline;
- clipsift: the service's ``Embedder`` (every text through the ``MicroBatcher``) with the service's
  default settings, called as the service is: concurrent requests of ``--per-request`` documents
  each, and one request holding every document.

    .venv/bin/python bench/text_semantic.py --docs 2000
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from text_svc.embeddings import Embedder, EmbeddingModel
from text_svc.settings import TextSettings

ROOTS = (Path("/usr/share/common-licenses"), Path("/usr/share/doc"))
BATCH_SIZES = (16, 32, 64, 128)


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


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def clipsift_rate(
    model: EmbeddingModel, texts: list[str], per_request: int, settings: TextSettings
) -> tuple[float, float]:
    """Texts per second through the Embedder: concurrent small requests, then one big request."""
    embedder = Embedder(settings, model)
    try:
        await embedder.embed(texts[:64])  # warm-up: the batcher's thread and first model call
        start = time.perf_counter()
        await asyncio.gather(
            *(embedder.embed(texts[i : i + per_request]) for i in range(0, len(texts), per_request))
        )
        concurrent = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        await embedder.embed(texts)
        single = len(texts) / (time.perf_counter() - start)
    finally:
        await embedder.close()
    return concurrent, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--per-request", type=int, default=20, help="documents per concurrent request")
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
    model.encode(texts[:64], batch_size=32)  # warm-up

    direct: dict[int, float] = {}
    for batch_size in BATCH_SIZES:
        direct[batch_size] = len(texts) / timed(lambda bs=batch_size: model.encode(texts, batch_size=bs))
        print(f"direct  model.encode batch_size={batch_size:<4d} {direct[batch_size]:8.1f} sentences/s")
    best = max(direct, key=direct.__getitem__)

    concurrent, single = asyncio.run(clipsift_rate(model, texts, args.per_request, settings))
    requests = -(-len(texts) // args.per_request)
    print(
        f"clipsift Embedder ({requests} concurrent requests of {args.per_request}, "
        f"max batch {settings.embedding_batch_size}) {concurrent:8.1f} sentences/s"
    )
    print(f"clipsift Embedder (one request of {len(texts)})  {single:8.1f} sentences/s")
    print(
        f"ratio to best direct (batch_size={best}, {direct[best]:.1f}/s): "
        f"concurrent {concurrent / direct[best]:.3f}, one request {single / direct[best]:.3f} "
        "(target >= 0.90)"
    )


if __name__ == "__main__":
    main()
