"""``clipsift analyze FILE``: a text, an image or a video, by the file's type."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..client import IMAGE_SUFFIXES, ApiError
from ._common import VIDEO_SUFFIXES, Subcommands, add_connection, connect, follow, read_text


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


def cmd_analyze(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise ApiError(f"{args.file} does not exist")
    if _is_image(args.file):
        return cmd_analyze_image(args)
    if args.file.suffix.lower() in VIDEO_SUFFIXES:
        return _analyze_video(args)
    client = connect(args)
    result = client.analyze(read_text(args.file), args.language)
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


def cmd_analyze_image(args: argparse.Namespace) -> int:
    client = connect(args)
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


def _analyze_video(args: argparse.Namespace) -> int:
    client = connect(args)
    if not args.file.is_file():
        raise ApiError(f"{args.file} does not exist")
    print(f"uploading {args.file} ...", file=sys.stderr)
    job = client.submit_video_analysis(args.file, args.language or "")
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
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


def register(commands: Subcommands) -> None:
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
    add_connection(analyze)
    analyze.set_defaults(func=cmd_analyze)
