"""Every model of the vision service, each behind its own micro-batcher, loaded once at start.

One batcher per model means one inference thread per model: none of them is called from two
threads at once (OpenCV's DNN nets and RapidOCR are not thread-safe), and the requests of all
RPCs (DetectFaces, AnalyzeImage, duplicates) share the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from clipsift_common.batching import MicroBatcher

from .embedding import Embedder
from .faces import DetectionInput, Face, FaceDetector
from .objects import DetectedObject, ObjectDetector, ObjectInput, object_detector
from .ocr import OcrInput, TextLine, TextReader
from .settings import VisionSettings


class VisionModels:
    def __init__(
        self,
        settings: VisionSettings,
        faces: FaceDetector | None = None,
        embedder: Embedder | None = None,
        objects: ObjectDetector | None = None,
        reader: TextReader | None = None,
    ) -> None:
        self.faces = faces or FaceDetector(settings.face_model, settings.device)
        self.embedder = embedder or Embedder(
            settings.embedding_model, settings.device, settings.inference_threads
        )
        self.objects = objects or object_detector(settings.object_model, settings.device)
        self.reader = reader or TextReader(settings.ocr_model_dir, settings.inference_threads)
        size, wait = settings.batch_max_size, settings.batch_max_wait_ms
        self.face_batcher: MicroBatcher[DetectionInput, list[Face]] = MicroBatcher(
            self.faces.detect, max_batch=size, max_wait_ms=wait, name="vision-faces"
        )
        self.embedding_batcher: MicroBatcher[npt.NDArray[np.float32], npt.NDArray[np.float32]] = MicroBatcher(
            self._embed, max_batch=size, max_wait_ms=wait, name="vision-embedding"
        )
        self.object_batcher: MicroBatcher[ObjectInput, list[DetectedObject]] = MicroBatcher(
            self.objects.detect, max_batch=size, max_wait_ms=wait, name="vision-objects"
        )
        self.ocr_batcher: MicroBatcher[OcrInput, list[TextLine]] = MicroBatcher(
            self.reader.read, max_batch=size, max_wait_ms=wait, name="vision-ocr"
        )

    def load(self) -> None:
        """Load every model (blocking; run it in a thread). Fails on the first that cannot load."""
        self.faces.load()
        self.embedder.load()
        self.objects.load()
        self.reader.load()

    async def close(self) -> None:
        for batcher in (self.face_batcher, self.embedding_batcher, self.object_batcher, self.ocr_batcher):
            await batcher.close()

    def _embed(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[npt.NDArray[np.float32]]:
        return self.embedder.embed(batch)
