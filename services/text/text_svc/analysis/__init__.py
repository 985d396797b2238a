"""Text analysis (language, sentiment, keywords, readability, entities) and gRPC TextAnalysisService."""
