"""Data: gold clauses as a ``datasets.Dataset`` with character BIO tags, region splits, statistics."""
