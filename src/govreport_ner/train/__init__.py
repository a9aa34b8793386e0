"""Training: fine-tuning a token classifier on the gold clauses."""
