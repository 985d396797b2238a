"""Tenants' deployed text classifiers and gRPC PredictionService."""
