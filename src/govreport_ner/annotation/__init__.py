"""Annotation: gold over seeds and corpus excerpts."""
