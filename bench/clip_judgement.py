"""Clip judgement benchmark: does the clip job pick the strong moments of a talk?

    .venv/bin/python bench/clip_judgement.py [--talks en-1,es-2] [--json out.json] [--keep DIR]
        [--llm-url http://127.0.0.1:8000/v1 --llm-model NAME]

Each talk of bench/clip_judgement_data.py (one language, one espeak-ng voice, six or seven labelled
passages: three strong stories, and weak housekeeping, hype-stuffed housekeeping and rambling) is spoken
passage by passage, so every passage's time span is known exactly, and put over a moving
picture. One clip job per talk runs on the local platform (language auto-detected, except those of
GIVEN_LANGUAGES); its clips,
best score first, are judged against the spans. With --llm-url the same videos go through a
second platform started with the video service's LLM re-ranker configured, side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clip_judgement_data import STRONG, STUFFED, TALKS, Talk, check
from clip_pipeline import duration_of, stage_video

# espeak-ng's Portuguese is heard as Latin by Whisper base (la 0.54-0.94 over six voice and speed
# variants, pt never among the top three candidates), though real Portuguese speech is detected: these
# talks are given their language, so the bench measures judgement; each result says which were given.
GIVEN_LANGUAGES = {"pt"}
GAP_SECONDS = 0.8  # silence between passages: a pause a sentence splitter sees, as between topics
LEAD_SECONDS = 0.5
HEADER = """\
Clip judgement: each talk is 6-7 spoken passages, 3 strong (a concrete story) and 3-4 weak
(housekeeping, housekeeping stuffed with hype words, rambling). A clip counts as strong when at
least half of its [start, end] lies on strong passages; 'stuffed' likewise on hype-stuffed ones.
strong@k: share of the top k = --count clips (best score first; missing ones count as weak) that
are strong; stuffed@k likewise.
NDCG@k: binary relevance, DCG = sum rel_i / log2(i + 1), ideal = min(k, strong passages) hits.
chance: share of the talk's speech time that is strong (what a clip placed at random would get)."""


@dataclass
class Span:
    index: int  # 1-based position in the talk
    label: str
    start: float
    end: float
    text: str


# -- building the videos --------------------------------------------------------------------------


def speak(talk: Talk, text: str, out: Path) -> None:
    command = ["espeak-ng", "-v", talk.voice, "-s", str(talk.speed), "-p", str(talk.pitch), "-w", str(out)]
    subprocess.run([*command, text], check=True)


def build_talk(talk: Talk, folder: Path, face: Path) -> tuple[Path, list[Span]]:
    """talk.mp4 in ``folder`` and each passage's span in it, from the sample counts of its WAV."""
    folder.mkdir(parents=True, exist_ok=True)
    spans: list[Span] = []
    speech = folder / "speech.wav"
    with wave.open(str(speech), "wb") as out:
        params = None
        position = 0  # samples written so far
        for index, (label, text) in enumerate(talk.segments, start=1):
            part = folder / f"part{index}.wav"
            speak(talk, text, part)
            with wave.open(str(part), "rb") as piece:
                if params is None:
                    params = piece.getparams()
                    out.setparams(params)
                    position = _silence(out, LEAD_SECONDS)
                frames = piece.readframes(piece.getnframes())
                start = position / params.framerate
                out.writeframes(frames)
                position += piece.getnframes()
            spans.append(Span(index, label, round(start, 3), round(position / params.framerate, 3), text))
            position += _silence(out, GAP_SECONDS)
            part.unlink()
    # As tests/clipsift_testing/talk.py: the astronaut's head drifting left and right over a dark stage.
    video = stage_video(face, speech, folder / "talk.mp4", (1280, 720), x="440+300*sin(t/4)", y=160)
    speech.unlink()
    return video, spans


def _silence(out: wave.Wave_write, seconds: float) -> int:
    samples = round(seconds * out.getframerate())
    out.writeframes(b"\0" * samples * out.getsampwidth() * out.getnchannels())
    return samples


# -- judging ---------------------------------------------------------------------------------------


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def judge_clip(clip: dict[str, Any], spans: Sequence[Span]) -> dict[str, Any]:
    start, end = float(clip["start"]), float(clip["end"])
    length = max(end - start, 1e-9)
    share = {label: sum(overlap(start, end, s.start, s.end) for s in spans if s.label == label) / length
             for label in {s.label for s in spans}}  # fmt: skip
    hit = max(spans, key=lambda s: overlap(start, end, s.start, s.end))  # the passage it covers most
    return {
        "start": start,
        "end": end,
        "score": clip["score"]["total"],
        "components": clip["score"].get("components", {}),
        "reasons": clip["score"].get("reasons", []),
        "transcript": clip.get("transcript", ""),
        "strong_share": round(share.get(STRONG, 0.0), 3),
        "strong": share.get(STRONG, 0.0) >= 0.5,
        "stuffed": share.get(STUFFED, 0.0) >= 0.5,
        "hit": {"index": hit.index, "label": hit.label},
    }


def metrics(judged: Sequence[dict[str, Any]], spans: Sequence[Span], k: int) -> dict[str, float]:
    relevance = [1.0 if c["strong"] else 0.0 for c in judged[:k]]
    dcg = sum(r / math.log2(i + 2) for i, r in enumerate(relevance))
    n_strong = sum(s.label == STRONG for s in spans)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, n_strong)))
    speech = sum(s.end - s.start for s in spans)
    return {
        "strong_at_k": sum(relevance) / k,
        "ndcg_at_k": dcg / ideal if ideal else 0.0,
        "stuffed_at_k": sum(c["stuffed"] for c in judged[:k]) / k,
        "chance": sum(s.end - s.start for s in spans if s.label == STRONG) / speech,
    }


# -- running the jobs ------------------------------------------------------------------------------


def run_talks(
    name: str,
    built: dict[str, tuple[Path, list[Span]]],
    languages: dict[str, str],
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Start a local platform (``env`` added to every service's environment), one job per talk."""
    from clipsift_cli.client import Client
    from clipsift_cli.runner import LocalPlatform, RunnerConfig

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        config = RunnerConfig(home=Path(home), http_port=0, log_level="WARNING", extra_env=env)
        platform = LocalPlatform(config)
        platform.start()
        print(f"[{name}] platform up in {time.perf_counter() - started:.0f}s", flush=True)
        try:
            client = Client(platform.gateway_url, platform.api_key, timeout=120)
            options = {"count": args.count, "min_seconds": args.min_seconds, "max_seconds": args.max_seconds,
                       "resolution": args.resolution, "captions": args.captions}  # fmt: skip
            for talk_id, (video, spans) in built.items():
                started = time.perf_counter()
                given = languages[talk_id] if languages[talk_id] in GIVEN_LANGUAGES else ""
                # Otherwise no language: detection is part of the test.
                job = client.submit_video(video, options | ({"language": given} if given else {}))
                while (state := client.job(job["id"]))["status"] not in ("completed", "failed"):
                    time.sleep(1.0)
                seconds = time.perf_counter() - started
                if state["status"] == "failed":
                    print(f"[{name}] {talk_id}: job failed: {state['message']}", flush=True)
                    results[talk_id] = {"failed": state["message"], "job_seconds": seconds}
                    continue
                manifest = client.clips(job["id"])
                judged = [judge_clip(c, spans) for c in manifest["clips"]]  # already best first
                results[talk_id] = {
                    "job_id": job["id"],
                    "job_seconds": round(seconds, 1),
                    "language": manifest.get("language"),
                    "language_probability": manifest.get("language_probability"),
                    "language_given": bool(given),
                    "ranker": manifest.get("ranker"),
                    "warnings": manifest.get("warnings", []),
                    "timings_seconds": manifest.get("timings_seconds", {}),
                    "clips": judged,
                    "metrics": metrics(judged, spans, args.count),
                }
                print(f"[{name}] {talk_id}: {seconds:.0f}s", flush=True)
        finally:
            platform.stop()
    return results


# -- reporting -------------------------------------------------------------------------------------


def print_talk(talk: Talk, spans: Sequence[Span], runs: dict[str, dict[str, Any]]) -> None:
    layout = "  ".join(f"{s.index}:{s.label} {s.start:.0f}-{s.end:.0f}" for s in spans)
    print(f"\n{talk.id}  {talk.language}  {talk.voice} -s{talk.speed} -p{talk.pitch}   {layout}")
    for name, result in runs.items():
        if "failed" in result:
            print(f"  {name:<9} FAILED: {result['failed']}")
            continue
        m = result["metrics"]
        print(
            f"  {name:<9} strong@k {m['strong_at_k']:.2f}  NDCG@k {m['ndcg_at_k']:.2f}  "
            f"stuffed@k {m['stuffed_at_k']:.2f}  chance {m['chance']:.2f}  "
            f"{'given' if result['language_given'] else 'detected'} {result['language']} "
            f"({result['language_probability']})  "
            f"job {result['job_seconds']:.0f}s  [{result['ranker']}]"
        )
        for rank, clip in enumerate(result["clips"], start=1):
            hit = clip["hit"]
            print(
                f"    #{rank} {clip['start']:6.1f}-{clip['end']:6.1f}s  score {clip['score']:6.3g}  "
                f"on {hit['index']}:{hit['label']:<8} strong {clip['strong_share']:4.0%}"
            )
        for warning in result["warnings"]:
            print(f"    warning: {warning}")


def summary(results: dict[str, dict[str, Any]], talks: Sequence[Talk]) -> dict[str, dict[str, float]]:
    """Mean of each metric per language and overall, over talks whose job completed."""
    groups: dict[str, list[dict[str, float]]] = {"overall": []}
    for talk in talks:
        result = results.get(talk.id, {})
        if "metrics" in result:
            groups.setdefault(talk.language, []).append(result["metrics"])
            groups["overall"].append(result["metrics"])
    return {
        group: {key: round(sum(m[key] for m in ms) / len(ms), 3) for key in ms[0]} | {"talks": len(ms)}
        for group, ms in groups.items()
        if ms
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--talks", default="", help="comma-separated talk ids (default: all)")
    parser.add_argument("--count", type=int, default=3, help="clips per job, and the k of the metrics")
    parser.add_argument("--min-seconds", type=float, default=12.0)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    # Rendering does not change which clips are chosen: small and without captions is faster.
    parser.add_argument("--resolution", default="270x480")
    parser.add_argument("--captions", action="store_true")
    parser.add_argument(
        "--llm-url", default="", help="OpenAI-compatible /v1 URL: a second run re-ranked by it"
    )
    parser.add_argument("--llm-model", default="")
    parser.add_argument("--json", type=Path, help="write talks, spans, clips and metrics here")
    parser.add_argument("--keep", type=Path, help="keep the talk videos (and spans.json) in this folder")
    args = parser.parse_args()

    counts = check()
    talks = [t for t in TALKS if not args.talks or t.id in args.talks.split(",")]
    unknown = set(filter(None, args.talks.split(","))) - {t.id for t in talks}
    if unknown or not talks:
        raise SystemExit(f"unknown talks {sorted(unknown)}; choose from {', '.join(t.id for t in TALKS)}")
    print(HEADER.replace("@k", f"@{args.count}"))
    per_language: dict[str, dict[str, int]] = {}
    for (language, label), n in counts.items():
        per_language.setdefault(language, {})[label] = n
    print(
        "data: " + "; ".join(f"{lang} {dict(sorted(c.items()))}" for lang, c in sorted(per_language.items()))
    )

    runs: dict[str, dict[str, str]] = {"built-in": {}}
    if args.llm_url:
        # The video service reads CLIPSIFT_VIDEO_LLM_*; the runner passes extra_env to every service.
        runs["llm"] = {"CLIPSIFT_VIDEO_LLM_URL": args.llm_url, "CLIPSIFT_VIDEO_LLM_MODEL": args.llm_model}

    work = Path(tempfile.mkdtemp(prefix="clip-judgement-"))
    try:
        from skimage import data, io

        face = work / "astronaut.png"
        # Head and shoulders, as tests/clipsift_testing/talk.py.
        io.imsave(face, data.astronaut()[:400, 60:460])  # type: ignore[no-untyped-call]
        built: dict[str, tuple[Path, list[Span]]] = {}
        build_seconds: dict[str, float] = {}
        for talk in talks:
            started = time.perf_counter()
            built[talk.id] = build_talk(talk, (args.keep or work) / talk.id, face)
            build_seconds[talk.id] = round(time.perf_counter() - started, 1)
            video, spans = built[talk.id]
            print(
                f"built {talk.id}: {duration_of(video):.0f}s video in {build_seconds[talk.id]:.0f}s",
                flush=True,
            )
            if args.keep:
                (video.parent / "spans.json").write_text(json.dumps([asdict(s) for s in spans], indent=1))

        languages = {t.id: t.language for t in talks}
        results = {name: run_talks(name, built, languages, args, env) for name, env in runs.items()}

        for talk in talks:
            print_talk(talk, built[talk.id][1], {name: r[talk.id] for name, r in results.items()})
        summaries = {name: summary(r, talks) for name, r in results.items()}
        k = args.count
        print()
        for name, groups in summaries.items():
            for group, m in groups.items():
                print(
                    f"{name:<9} {group:<8} strong@{k} {m['strong_at_k']:.2f}  NDCG@{k} {m['ndcg_at_k']:.2f}  "
                    f"stuffed@{k} {m['stuffed_at_k']:.2f}  chance {m['chance']:.2f}  ({m['talks']:.0f} talks)"
                )
        if args.json:
            document = {
                "options": {key: str(v) if isinstance(v, Path) else v for key, v in vars(args).items()},
                "talks": [
                    asdict(t)
                    | {"build_seconds": build_seconds[t.id], "spans": [asdict(s) for s in built[t.id][1]]}
                    for t in talks
                ],
                "runs": results,
                "summary": summaries,
            }
            args.json.write_text(json.dumps(document, indent=1, ensure_ascii=False))
            print(f"wrote {args.json}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
