"""``clipsift compare A B``: the passages two text files share, with offsets (and an HTML report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._common import Subcommands, add_connection, connect, read_text


def cmd_compare(args: argparse.Namespace) -> int:
    client = connect(args)
    a, b = read_text(args.a), read_text(args.b)
    result = client.compare(a, b, args.min_words)
    if args.html:
        args.html.write_text(client.compare(a, b, args.min_words, html=True), encoding="utf-8")
        print(f"report written to {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    passages = result["passages"]
    print(
        f"{len(passages)} shared passages of {result['min_words']}+ words; "
        f"{args.a} {result['coverage_a']:.1%} covered, {args.b} {result['coverage_b']:.1%} covered, "
        f"Jaccard {result['exact_jaccard']:.3f}"
    )
    for number, p in enumerate(passages, start=1):
        excerpt = " ".join(a[p["a_start"] : p["a_end"]].split())
        excerpt = excerpt if len(excerpt) <= 70 else excerpt[:67] + "..."
        print(
            f"  [{number}] {args.a}:{p['a_start']}-{p['a_end']}  {args.b}:{p['b_start']}-{p['b_end']}  "
            f"{p['words_a']} words  {excerpt!r}"
        )
    return 0


def register(commands: Subcommands) -> None:
    compare = commands.add_parser("compare", help="passages two text files share, with offsets")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--min-words", type=int, help="shortest passage reported (3-100, default 8)")
    compare.add_argument("--html", type=Path, help="also write the side-by-side HTML report here")
    compare.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_connection(compare)
    compare.set_defaults(func=cmd_compare)
