"""Extraction without a model: the rule pre-annotator and target normalization from entity spans."""
