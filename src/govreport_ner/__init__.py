"""govreport-ner: quantified targets and named projects from Chinese government work reports."""

__version__ = "0.1.0"
