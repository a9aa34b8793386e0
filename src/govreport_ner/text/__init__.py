"""Text: report files and JSONL read into ``Document`` (or ``Failure``), clause segmentation, seed metadata."""
