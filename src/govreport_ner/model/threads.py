"""Threads for inference: the cores this process may use, given to torch (and ONNX Runtime)."""

from __future__ import annotations

import os

import torch


def available_cores() -> int:
    """CPU cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def configure_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: all available cores); returns the number used."""
    n = int(num_threads) if num_threads else available_cores()
    torch.set_num_threads(n)
    return n
