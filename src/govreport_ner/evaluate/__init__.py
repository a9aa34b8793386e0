"""Evaluation: entity metrics, scoring any predictor on gold clauses, fold aggregation, reports, charts."""
