"""Clip pipeline benchmark: a clip job end to end versus bare faster-whisper, in one run.

    .venv/bin/python bench/clip_pipeline.py [--minutes 10] [--clips 3] [--memory-hours 1]

Builds a talk video (real prose from Debian's GPL-3 text spoken by espeak-ng, scikit-image's
astronaut pacing a 1080p stage), transcribes its audio with faster-whisper directly (the
baseline: same model, same beam, VAD on, word timestamps), then runs a clip job on the local
platform and prints the wall times, the time per step, the ratio, and the job time as a
fraction of the video's duration. With --memory-hours it also runs a job on a long 1080p input
(the talk repeated by stream copy) and samples the video worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))


def build_talk(folder: Path, minutes: float) -> Path:
    from skimage import data, io

    words = Path("/usr/share/common-licenses/GPL-3").read_text().split()
    text = " ".join(words[: int(minutes * 165)])  # espeak at 160 wpm, plus pauses
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(speech), text], check=True)
    face = folder / "astronaut.png"
    io.imsave(face, data.astronaut())
    return stage_video(face, speech, folder / "talk.mp4", (1920, 1080), x="704+500*sin(t/5)", y=284)


def stage_video(face: Path, speech: Path, video: Path, size: tuple[int, int], x: str, y: int) -> Path:
    """``speech`` over a dark stage with ``face`` drifting at ``x`` (an ffmpeg expression in t)."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0x202830:s={size[0]}x{size[1]}:r=25",
            "-loop", "1", "-i", str(face), "-i", str(speech),
            "-filter_complex", f"[0:v][1:v]overlay=x='{x}':y={y}:shortest=1,format=yuv420p[v]",
            "-map", "[v]", "-map", "2:a", "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-c:a", "aac", "-b:a", "96k",
            "-movflags", "+faststart", str(video),
        ],
        check=True,
    )  # fmt: skip
    return video


def repeat(video: Path, times: int, out: Path) -> Path:
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{video}'\n" for _ in range(times)))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", "-movflags", "+faststart", str(out)],
        check=True,
    )  # fmt: skip
    return out


def duration_of(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out)


def bare_transcription(video: Path, folder: Path) -> tuple[float, float]:
    """Seconds for faster-whisper alone, decoding one window after the other and in batches of 8
    (its BatchedInferencePipeline, as the audio service does by default)."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from audio_svc.packaged_models import whisper_base

    wav = folder / "bare.wav"
    extract = ["-i", str(video), "-vn", "-ac", "1", "-ar", "16000", str(wav)]
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *extract], check=True)
    # The platform's default model, as the audio service loads it.
    model = WhisperModel(str(whisper_base()), device="cpu", compute_type="int8")
    start = time.perf_counter()
    segments, _ = model.transcribe(str(wav), beam_size=5, word_timestamps=True, vad_filter=True)
    words = sum(len(s.words or []) for s in segments)
    elapsed = time.perf_counter() - start
    print(f"baseline: faster-whisper Whisper base int8 beam 5 + VAD: {elapsed:.1f}s, {words} words")
    start = time.perf_counter()
    segments, _ = BatchedInferencePipeline(model).transcribe(
        str(wav), beam_size=5, word_timestamps=True, batch_size=8, language="en"
    )
    words = sum(len(s.words or []) for s in segments)
    batched = time.perf_counter() - start
    print(f"baseline: the same, batched (batch 8): {batched:.1f}s, {words} words")
    return elapsed, batched


class PeakRss:
    """Samples a process's resident memory (and its children's) until stopped."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_self = 0
        self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                own = self.process.memory_info().rss
                children = sum(c.memory_info().rss for c in self.process.children(recursive=True))
            except psutil.Error:
                continue
            self.peak_self = max(self.peak_self, own)
            self.peak_tree = max(self.peak_tree, own + children)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_job(platform: object, video: Path, clips: int) -> tuple[float, dict[str, object], PeakRss]:
    from clipsift_cli.client import Client

    runtime = json.loads(platform.runtime_file.read_text())  # type: ignore[attr-defined]
    client = Client(runtime["gateway_url"], runtime["api_key"], timeout=600)
    memory = PeakRss(runtime["services"]["video"]["pid"])
    speech_memory = PeakRss(runtime["services"]["audio"]["pid"])
    start = time.perf_counter()
    job = client.submit_video(video, {"count": clips, "min_seconds": 20, "max_seconds": 60})
    final = None
    for event in client.events(job["id"]):
        final = event
    elapsed = time.perf_counter() - start
    memory.stop()
    speech_memory.stop()
    print(f"audio service peak RSS: {speech_memory.peak_self / 2**20:.0f} MiB")
    if final is None or final["type"] != "completed":
        raise SystemExit(f"clip job failed: {final}")
    return elapsed, client.clips(job["id"]), memory


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--memory-hours", type=float, default=0.0)
    args = parser.parse_args()

    from clipsift_cli.runner import LocalPlatform, RunnerConfig

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = build_talk(folder, args.minutes)
        length = duration_of(video)
        print(f"input: {length:.0f}s 1920x1080 talk video")
        bare, bare_batched = bare_transcription(video, folder)

        platform = LocalPlatform(RunnerConfig(home=folder / "home", http_port=0, log_level="WARNING"))
        platform.start()
        try:
            elapsed, manifest, memory = run_job(platform, video, args.clips)
            steps = manifest["timings_seconds"]
            output = manifest["clips"][0]["output"]  # type: ignore[index]
            size = f"{output['width']}x{output['height']}"
            print(f"clipsift clip job ({args.clips} clips, {size}): {elapsed:.1f}s wall, submit to completed")
            for step, seconds in steps.items():  # type: ignore[attr-defined]
                print(f"  {step:<16}{seconds:8.1f}s")
            clips = manifest["clips"]  # type: ignore[index]
            seconds = sum(c["duration"] for c in clips)  # type: ignore[attr-defined]
            for phase in ("faces_and_cuts", "render", "thumbnail"):
                spent = sum(c["timings_seconds"][phase] for c in clips)  # type: ignore[attr-defined]
                print(f"    {phase:<16}{spent:8.1f}s over {seconds:.0f}s of clips")
            print(f"ratio pipeline / bare transcription: {elapsed / bare:.2f}x")
            print(f"ratio pipeline / bare batched transcription: {elapsed / bare_batched:.2f}x")
            print(f"job time / video duration: {elapsed / length:.3f}")
            print(
                f"video worker peak RSS: {memory.peak_self / 2**20:.0f} MiB "
                f"(with its ffmpeg children: {memory.peak_tree / 2**20:.0f} MiB)"
            )
            if args.memory_hours:
                long_video = repeat(
                    video, max(1, round(args.memory_hours * 3600 / length)), folder / "long.mp4"
                )
                print(
                    f"long input: {duration_of(long_video) / 3600:.2f} h 1080p, "
                    f"{long_video.stat().st_size / 2**20:.0f} MiB"
                )
                elapsed, _, memory = run_job(platform, long_video, args.clips)
                print(
                    f"long job: {elapsed:.1f}s; video worker peak RSS {memory.peak_self / 2**20:.0f} MiB "
                    f"(with ffmpeg children {memory.peak_tree / 2**20:.0f} MiB)"
                )
        finally:
            platform.stop()


if __name__ == "__main__":
    main()
