"""clipsift training service: fine-tunes text classifiers and keeps the model registry."""
