"""Training (``make train-sentiment``) and evaluation (``make eval``) of the embedded sentiment models."""
