"""Index query latency: clipsift's persistent index (gRPC IndexService on PostgreSQL) versus
datasketch MinHashLSH in memory, with 100k real-text documents indexed.

Corpus: ``text_dedup.build_corpus`` (Debian's /usr/share/doc, man pages, Python's standard library),
each of its 1-20 KB documents cut at paragraph breaks into pieces of 0.5-2 KB, until ``--docs``
pieces. Queries: near copies (``text_dedup.perturb``) of indexed pieces, the near-duplicate lookup
the index exists for, and pieces that were never indexed (misses). Both sides time the whole
lookup of a query text: shingling, MinHash, LSH lookup; clipsift also verifies every candidate by
exact Jaccard, fetches from PostgreSQL and answers over gRPC (client and server in this process).

    .venv/bin/python bench/text_index.py --docs 100000 --queries 1000

Needs PostgreSQL (``--pg-admin-url``, default the local server); a database is created for the
run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

import grpc
import numpy as np
import psycopg
from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from text_dedup import build_corpus, perturb

from clipsift.text.v1 import index_pb2, index_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from text_svc.dedup.detector import Detector
from text_svc.index.servicer import IndexServicer
from text_svc.index.setup import open_text_index
from text_svc.settings import TextSettings

THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5
BATCH = 2000
_WORD = re.compile(r"\w+")


def pieces(documents: list[str], count: int, seed: int) -> list[str]:
    """Cut documents at paragraph breaks into 0.5-2 KB pieces of 30+ words, ``count`` at most."""
    rng = random.Random(seed)
    out: list[str] = []
    for document in documents:
        size, current = rng.randint(500, 2000), ""
        for paragraph in re.split(r"\n\s*\n", document):
            current = f"{current}\n\n{paragraph}" if current else paragraph
            if len(current) >= size:
                if len(_WORD.findall(current)) >= 30:
                    out.append(current[:4000])
                current, size = "", rng.randint(500, 2000)
        if len(out) >= count:
            break
    return out[:count]


def datasketch_minhash(text: str) -> MinHash:
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return minhash


def run_datasketch(indexed: list[str], queries: list[str]) -> tuple[float, list[float], list[set[int]]]:
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    for number, text in enumerate(indexed):
        lsh.insert(number, datasketch_minhash(text))
    build = time.perf_counter() - start
    latencies, found = [], []
    for text in queries:
        t0 = time.perf_counter()
        hits = lsh.query(datasketch_minhash(text))
        latencies.append(time.perf_counter() - t0)
        found.append(set(hits))
    return build, latencies, found


async def run_clipsift(
    database_url: str, indexed: list[str], queries: list[str], blob_dir: Path
) -> tuple[float, list[float], list[set[int]]]:
    settings = TextSettings(  # type: ignore[call-arg]
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
        nats_url="nats://unused",
        blob_dir=blob_dir,
        database_url=database_url,
        num_perm=NUM_PERM,
        shingle_size=SHINGLE,
        index_max_documents_per_request=BATCH,
    )
    index, pool = await open_text_index(settings, Detector(settings), None, open_blob_store(settings))
    server = GrpcServer(
        settings,
        [ServiceBinding(index_pb2_grpc.add_IndexServiceServicer_to_server, IndexServicer(index), "index")],
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)]
    )
    stub = index_pb2_grpc.IndexServiceStub(channel)
    try:
        start = time.perf_counter()
        for offset in range(0, len(indexed), BATCH):
            docs = [
                index_pb2.IndexedDocument(id=str(offset + i), text=text)
                for i, text in enumerate(indexed[offset : offset + BATCH])
            ]
            await stub.AddDocuments(
                index_pb2.AddDocumentsRequest(tenant="bench", index="corpus", documents=docs)
            )
            print(f"  indexed {offset + len(docs)}/{len(indexed)}", end="\r", file=sys.stderr)
        build = time.perf_counter() - start
        async with pool.connection() as conn:
            await conn.execute("ANALYZE")
        for text in queries[:20]:  # warm the connection pool and PostgreSQL's caches
            await stub.Query(
                index_pb2.QueryRequest(tenant="bench", index="corpus", text=text, threshold=THRESHOLD)
            )
        latencies, found = [], []
        for text in queries:
            t0 = time.perf_counter()
            reply = await stub.Query(
                index_pb2.QueryRequest(tenant="bench", index="corpus", text=text, threshold=THRESHOLD)
            )
            latencies.append(time.perf_counter() - t0)
            found.append({int(m.id) for m in reply.matches})
        return build, latencies, found
    finally:
        await channel.close()
        await server.stop()
        await pool.close()


def _ms(values: list[float], q: float) -> float:
    return float(np.quantile(np.array(values), q) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000, help="half near copies, half never indexed")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    # Enough source text for the pieces plus the held-out queries (pieces average ~1.2 KB, and the
    # short tails of documents are dropped).
    wanted = args.docs + args.queries // 2
    corpus = pieces(build_corpus(int(wanted * 2200), args.seed), wanted, args.seed)
    if len(corpus) < wanted:
        sys.exit(f"only {len(corpus)} pieces of text found on this machine; {wanted} needed")
    rng = random.Random(args.seed)
    rng.shuffle(corpus)
    indexed, held_out = corpus[: args.docs], corpus[args.docs :]
    sources = rng.sample(range(len(indexed)), args.queries // 2)
    queries = [perturb(indexed[i], rng) for i in sources] + held_out
    megabytes = sum(len(t.encode()) for t in indexed) / 1e6
    print(
        f"index: {len(indexed)} documents, {megabytes:.1f} MB; queries: {len(sources)} near copies, "
        f"{len(held_out)} never indexed"
    )

    name = f"clipsift_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(args.pg_admin_url, dbname=name)
    try:
        with tempfile.TemporaryDirectory() as blobs:
            ours_build, ours, ours_found = asyncio.run(run_clipsift(url, indexed, queries, Path(blobs)))
    finally:
        with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    theirs_build, theirs, theirs_found = run_datasketch(indexed, queries)

    near = len(sources)
    for label, build, latencies, found in (
        ("datasketch", theirs_build, theirs, theirs_found),
        ("clipsift", ours_build, ours, ours_found),
    ):
        hit = sum(source in found[q] for q, source in enumerate(sources)) / near
        print(
            f"{label:>10}: build {build:7.1f} s ({len(indexed) / build:6.0f} docs/s)  query p50 "
            f"{_ms(latencies, 0.5):6.2f} ms  p95 {_ms(latencies, 0.95):6.2f} ms  mean "
            f"{statistics.mean(latencies) * 1000:6.2f} ms  near copy found {hit:.3f}  "
            f"results per miss {statistics.mean(len(f) for f in found[near:]):.2f}"
        )
    print(
        f"p95 ratio clipsift / datasketch: {_ms(ours, 0.95) / _ms(theirs, 0.95):.2f}  "
        f"(target: clipsift p95 <= 50 ms: {'met' if _ms(ours, 0.95) <= 50 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
