"""``clipsift index add | query | compare | list | delete``: the tenant's persistent text indexes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..client import ApiError
from ._common import Subcommands, add_connection, connect, corpus, follow, read_text


def cmd_index_add(args: argparse.Namespace) -> int:
    client = connect(args)
    count, lines = corpus(args.paths)
    job = client.add_corpus(args.name, lines, args.semantic)
    print(f"job {job['id']}: adding {count} documents to index {args.name!r}", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    summary = client.job(job["id"])["summary"]
    print(
        f"index {args.name!r}: {summary['added']} added, {summary['replaced']} replaced, "
        f"{summary['documents']} documents in the index"
    )
    return 0


def cmd_index_query(args: argparse.Namespace) -> int:
    client = connect(args)
    body: dict[str, Any] = {"text": read_text(args.file), "semantic": args.semantic}
    for key in ("threshold", "limit", "semantic_threshold"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    if args.csv:
        sys.stdout.write(client.query_index(args.name, body, csv=True))
        return 0
    result = client.query_index(args.name, body)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    matches = result["matches"]
    print(
        f"{len(matches)} near-duplicates of {args.file} in {args.name!r} "
        f"(Jaccard >= {result['threshold']}, {result['documents']} documents indexed)"
    )
    for m in matches:
        exact = "  exact copy" if m["exact"] else ""
        print(f"  {m['jaccard']:.3f}  {m['id']}  {m['title']}{exact}")
    if args.semantic:
        semantic = result["semantic_matches"]
        print(f"{len(semantic)} semantic neighbours (cosine >= {result['semantic_threshold']})")
        for m in semantic:
            print(f"  {m['cosine']:.3f}  {m['id']}  {m['title']}")
    return 0


def cmd_index_compare(args: argparse.Namespace) -> int:
    client = connect(args)
    text = read_text(args.file)
    body: dict[str, Any] = {"text": text}
    if args.min_words is not None:
        body["min_words"] = args.min_words
    result = client.compare_to_index(args.name, body)
    if args.html and result["matches"]:
        args.html.write_text(client.compare_to_index(args.name, body, html_match=1), encoding="utf-8")
        print(f"report on the best match written to {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{len(result['matches'])} indexed documents share passages with {args.file}; "
        f"{result['coverage']:.1%} of it covered"
    )
    for m in result["matches"]:
        report = m["report"]
        print(
            f"  {m['id']}: {len(report['passages'])} passages, {report['coverage_a']:.1%} of {args.file}, "
            f"{report['coverage_b']:.1%} of {m['id']}"
        )
    return 0


def cmd_index_list(args: argparse.Namespace) -> int:
    client = connect(args)
    for index in client.indexes()["indexes"]:
        kind = f"semantic ({index['vector_backend']})" if index["semantic"] else "near-duplicate"
        print(f"{index['name']}  {index['documents']} documents  {kind}  updated {index['updated_at']}")
    return 0


def cmd_index_delete(args: argparse.Namespace) -> int:
    client = connect(args)
    if args.doc:
        left = client.delete_indexed_document(args.name, args.doc)["documents"]
        print(f"deleted {args.doc!r} from {args.name!r}; {left} documents left")
    else:
        gone = client.delete_index(args.name)["deleted_documents"]
        print(f"deleted index {args.name!r} and its {gone} documents")
    return 0


def register(commands: Subcommands) -> None:
    index = commands.add_parser("index", help="persistent per-tenant text indexes").add_subparsers(
        dest="index_command", required=True
    )
    add = index.add_parser("add", help="add text files (a job with a progress bar)")
    add.add_argument("name")
    add.add_argument("paths", nargs="+", type=Path, help="text files or folders of .txt files")
    add.add_argument("--semantic", action="store_true", help="create the index with embeddings")
    add.add_argument("--quiet", action="store_true", help="no progress bar")
    add.set_defaults(func=cmd_index_add)
    query = index.add_parser("query", help="near-duplicates (and semantic neighbours) of a file")
    query.add_argument("name")
    query.add_argument("file", type=Path)
    query.add_argument("--semantic", action="store_true", help="also the nearest documents by embedding")
    query.add_argument("--threshold", type=float, help="minimum Jaccard (default 0.8)")
    query.add_argument("--semantic-threshold", type=float, help="minimum cosine (default 0.85)")
    query.add_argument("--limit", type=int, help="matches per kind (default 10)")
    query.add_argument("--csv", action="store_true", help="print the matches as CSV")
    query.add_argument("--json", action="store_true", help="print the full result as JSON")
    query.set_defaults(func=cmd_index_query)
    against = index.add_parser("compare", help="passages a file shares with indexed documents")
    against.add_argument("name")
    against.add_argument("file", type=Path)
    against.add_argument("--min-words", type=int, help="shortest passage reported (3-100, default 8)")
    against.add_argument("--html", type=Path, help="write the best match's side-by-side report here")
    against.add_argument("--json", action="store_true", help="print the full result as JSON")
    against.set_defaults(func=cmd_index_compare)
    listing = index.add_parser("list", help="the tenant's indexes")
    listing.set_defaults(func=cmd_index_list)
    delete = index.add_parser("delete", help="delete an index, or one document of it with --doc")
    delete.add_argument("name")
    delete.add_argument("--doc", help="the id of the one document to delete")
    delete.set_defaults(func=cmd_index_delete)
    for sub in (add, query, against, listing, delete):
        add_connection(sub)
