"""gRPC TextAnalysisService: language, sentiment, keywords, readability and entities of one text."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.text.v1 import analysis_pb2, analysis_pb2_grpc

from .analyzer import Analysis, Analyzer


class TextAnalysisServicer(analysis_pb2_grpc.TextAnalysisServiceServicer):
    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    async def Analyze(
        self, request: analysis_pb2.AnalyzeRequest, context: grpc.aio.ServicerContext
    ) -> analysis_pb2.AnalyzeResponse:
        # Model inference is CPU-bound: off the event loop, so health checks stay responsive.
        result = await asyncio.to_thread(self.analyzer.analyze, request.text, request.language)
        return to_response(result)


def to_response(result: Analysis) -> analysis_pb2.AnalyzeResponse:
    language, sentiment, readability = result.language, result.sentiment, result.readability
    return analysis_pb2.AnalyzeResponse(
        language=analysis_pb2.LanguageResult(
            language=language.language,
            confidence=language.confidence,
            candidates=[
                analysis_pb2.LanguageCandidate(language=code, confidence=value)
                for code, value in language.candidates
            ],
            from_hint=language.from_hint,
        ),
        sentiment=analysis_pb2.Sentiment(
            compound=sentiment.compound,
            positive=sentiment.positive,
            neutral=sentiment.neutral,
            negative=sentiment.negative,
            sentiment_model=result.models["sentiment"],
            language_supported=sentiment.language_supported,
        ),
        keywords=[analysis_pb2.Keyword(keyword=word, score=score) for word, score in result.keywords],
        readability=analysis_pb2.Readability(
            flesch_reading_ease=readability.flesch_reading_ease,
            flesch_kincaid_grade=readability.flesch_kincaid_grade,
            gunning_fog=readability.gunning_fog,
            smog_index=readability.smog_index,
            words=readability.words,
            sentences=readability.sentences,
        ),
        entities=[
            analysis_pb2.Entity(text=e.text, label=e.label, start=e.start, end=e.end) for e in result.entities
        ],
        entities_supported=result.entities_supported,
        models=result.models,
    )
