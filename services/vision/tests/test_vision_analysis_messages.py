"""The analysis domain's results as the wire's messages: no models, no server."""

from __future__ import annotations

from clipsift.vision.v1 import analysis_pb2
from vision_svc.analysis import ALL_FEATURES, Feature, ImageAnalysis
from vision_svc.analysis_servicer import to_image_analysis
from vision_svc.colours import Colour
from vision_svc.faces import Face
from vision_svc.hashing import HashSet
from vision_svc.objects import DetectedObject
from vision_svc.ocr import TextLine
from vision_svc.quality import Quality


def test_features_mirror_the_wire_enum() -> None:
    wire = {name.removeprefix("FEATURE_"): value for name, value in analysis_pb2.Feature.items()}
    del wire["UNSPECIFIED"]
    assert {feature.name: feature.value for feature in ALL_FEATURES} == wire
    assert Feature.EMBEDDING == analysis_pb2.FEATURE_EMBEDDING


def test_features_not_asked_for_stay_unset() -> None:
    message = to_image_analysis(ImageAnalysis(640, 480, 640, 480, "PNG"))
    assert message == analysis_pb2.ImageAnalysis(
        width=640, height=480, analyzed_width=640, analyzed_height=480, format="PNG"
    )
    assert not message.HasField("quality")
    assert not message.HasField("hashes")


def test_every_feature_converts() -> None:
    quality = Quality(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, "ok", False, False)
    result = ImageAnalysis(
        1000,
        800,
        500,
        400,
        "JPEG",
        objects=(DetectedObject("person", 0.9, 1.0, 2.0, 30.0, 40.0),),
        text_lines=(TextLine("hi", 0.8, [(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)]),),
        text="hi",
        colours=(Colour(255, 0, 16, 0.5),),
        quality=quality,
        faces=(Face(10.0, 20.0, 30.0, 40.0, 0.75),),
        hashes=HashSet(1, 2**64 - 1, 0xABC),
        embedding=(0.5, -0.5),
    )
    message = to_image_analysis(result)
    assert message.objects[0].label == "person"
    assert message.objects[0].box.width == 30.0
    assert [(p.x, p.y) for p in message.text_lines[0].polygon][2] == (4.0, 2.0)
    assert message.text == "hi"
    assert message.colours[0].hex == "#ff0010"
    assert message.colours[0].fraction == 0.5
    # An all-zero quality is still present: it was asked for.
    assert message.HasField("quality")
    assert message.quality.exposure == "ok"
    assert (message.faces[0].box.x, message.faces[0].confidence) == (10.0, 0.75)
    assert message.hashes == analysis_pb2.ImageHashes(
        phash="0000000000000001", dhash="ffffffffffffffff", whash="0000000000000abc"
    )
    assert list(message.embedding) == [0.5, -0.5]
