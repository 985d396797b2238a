"""``clipsift dedup``: near-duplicate clusters among text files, images (--images) or videos (--videos)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..client import IMAGE_SUFFIXES, ApiError
from ._common import VIDEO_SUFFIXES, Subcommands, add_connection, connect, corpus, follow


def cmd_dedup(args: argparse.Namespace) -> int:
    if args.images is not None and args.videos is not None:
        raise ApiError("give either --images DIR or --videos DIR, not both")
    if (args.images is not None or args.videos is not None) and args.paths:
        raise ApiError("give either --images/--videos DIR or text paths, not both")
    if args.images is not None:
        return cmd_dedup_images(args)
    if args.videos is not None:
        return _dedup_videos(args)
    if not args.paths:
        raise ApiError("give text files or folders, or --images DIR, or --videos DIR")
    client = connect(args)
    count, lines = corpus(args.paths)
    job = client.submit_corpus(lines, args.threshold)
    print(f"job {job['id']}: {count} documents", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    if args.csv:
        sys.stdout.write(client.result_csv(job["id"]))
        return 0
    result = client.result(job["id"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    clusters = result["clusters"]
    print(
        f"{len(clusters)} clusters of near-duplicates among {result['documents']} documents "
        f"(Jaccard >= {result['threshold']})"
    )
    for number, cluster in enumerate(clusters, start=1):
        print(
            f"\ncluster {number}: {len(cluster['document_ids'])} documents, "
            f"Jaccard {cluster['min_jaccard']:.3f}-{cluster['max_jaccard']:.3f}"
        )
        for doc_id in cluster["document_ids"]:
            print(f"  {doc_id}")
    return 0


def cmd_dedup_images(args: argparse.Namespace) -> int:
    client = connect(args)
    files = _image_paths(args.images)
    print(f"comparing {len(files)} images ...", file=sys.stderr)
    params: dict[str, Any] = {}
    if args.max_hash_distance:
        params["max_hash_distance"] = args.max_hash_distance
    if args.hashes_only:
        params["use_embeddings"] = "false"
    result = client.image_duplicates(files, params)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    clusters = result["clusters"]
    print(f"{len(clusters)} clusters of near-duplicates among {result['images']} images")
    for number, cluster in enumerate(clusters, start=1):
        print(f"\ncluster {number}: {len(cluster['image_ids'])} images")
        for image_id in cluster["image_ids"]:
            print(f"  {image_id}")
        for pair in cluster["pairs"]:
            e = pair["evidence"]
            similarity = f"  similarity {e['similarity']:.3f}" if "similarity" in e else ""
            mirrored = "  mirrored" if e["mirrored"] else ""
            print(
                f"    {pair['a']} ~ {pair['b']}: pHash {e['phash_distance']} dHash {e['dhash_distance']} "
                f"wHash {e['whash_distance']}{similarity}{mirrored} ({e['rule']})"
            )
    return 0


def _image_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ApiError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ApiError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {folder}")
    return files


def _video_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ApiError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if len(files) < 2:
        raise ApiError(f"{folder} holds {len(files)} video files; near-duplicates need at least 2")
    return files


def _dedup_videos(args: argparse.Namespace) -> int:
    client = connect(args)
    folder: Path = args.videos
    files = _video_files(folder)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "videos.zip"
        # Stored, not deflated: video is already compressed, and the names keep the folder layout.
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for path in files:
                archive.write(path, str(path.relative_to(folder)))
        print(f"uploading {len(files)} videos ...", file=sys.stderr)
        job = client.submit_video_duplicates(bundle, args.index, args.against_index)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    result = client.result(job["id"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    near = [p for p in result["pairs"] if p["near_duplicate"]]
    print(
        f"{len(near)} near-duplicate pairs among {len(result['videos'])} videos "
        f"({result['indexed_videos_compared']} indexed videos also compared)"
    )
    for pair in result["pairs"]:
        label = "near-duplicate" if pair["near_duplicate"] else "shares footage"
        where = " (indexed)" if pair["b_indexed"] else ""
        print(f"\n{pair['a']}  ~  {pair['b']}{where}: {label}, score {pair['score']:.2f}")
        for seg in pair["segments"]:
            print(
                f"  {seg['a_start']:8.2f}-{seg['a_end']:8.2f}s  <->  "
                f"{seg['b_start']:8.2f}-{seg['b_end']:8.2f}s  similarity {seg['similarity']:.2f}"
            )
    for number, cluster in enumerate(result["clusters"], start=1):
        print(f"\ncluster {number}: " + ", ".join(cluster))
    return 0


def register(commands: Subcommands) -> None:
    dedup = commands.add_parser("dedup", help="find near-duplicate text files")
    add_connection(dedup)
    dedup.set_defaults(func=cmd_dedup)
    dedup.add_argument("paths", nargs="*", type=Path, help="text files or folders of .txt files")
    dedup.add_argument("--images", type=Path, help="a folder of images: near-duplicate images instead")
    dedup.add_argument("--max-hash-distance", type=int, help="images: hash bits that count as close")
    dedup.add_argument("--hashes-only", action="store_true", help="images: no embeddings (faster)")
    dedup.add_argument("--videos", type=Path, help="a folder of videos: find near-duplicate videos")
    dedup.add_argument("--index", action="store_true", help="videos: add them to the tenant's index")
    dedup.add_argument(
        "--against-index", action="store_true", help="videos: also compare with the tenant's index"
    )
    dedup.add_argument("--threshold", type=float, help="minimum Jaccard similarity (default 0.8)")
    dedup.add_argument("--json", action="store_true", help="print the full result as JSON")
    dedup.add_argument("--csv", action="store_true", help="print the pairs as CSV")
    dedup.add_argument("--quiet", action="store_true", help="no progress bar")
