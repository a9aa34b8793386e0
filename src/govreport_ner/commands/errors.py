"""Expected errors of the scripts: one clear line on stderr and a non-zero exit, no traceback.

An expected error is a bad input, a missing file, a model that cannot be loaded (no hub), an
invalid export, a missing or bad setting. Anything else is a bug and keeps its traceback. With
``HYDRA_FULL_ERROR=1`` or ``GOVREPORT_NER_DEBUG=1`` every error keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

from omegaconf.errors import OmegaConfBaseException

from govreport_ner.annotation.labelstudio_format import ExportValidationError
from govreport_ner.text.reader import ReportReadError

DEBUG_VARIABLES = ("HYDRA_FULL_ERROR", "GOVREPORT_NER_DEBUG")
EXIT_CODE = 2


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types a user can cause and fix: reported in one line."""
    from govreport_ner.model.modeling import ModelLoadError

    return (
        ReportReadError,
        ExportValidationError,
        ModelLoadError,
        FileNotFoundError,
        NotADirectoryError,
        ValueError,  # bad settings: engine, shard, format, split, held-out regions, ...
        OmegaConfBaseException,  # a missing (???) or invalid config value
    )


def debugging() -> bool:
    """Whether tracebacks were asked for."""
    return any(os.environ.get(name, "") not in ("", "0") for name in DEBUG_VARIABLES)


def one_line(err: BaseException) -> str:
    """The message of an expected error, on one line (an export's list of problems stays a list)."""
    if isinstance(err, ExportValidationError):
        problems = err.report.errors
        if len(problems) == 1:
            return f"invalid Label Studio export: {problems[0]}"
        return str(err)
    text = str(err).strip() or type(err).__name__
    first = text.splitlines()[0]
    if isinstance(err, OmegaConfBaseException) and "Missing mandatory value" in first:
        key = first.split(":", 1)[-1].strip()
        return f"missing setting {key}: give it as {key}=..."
    return first


def report_errors(main: Callable) -> Callable:
    """Decorate a script's Hydra task function: expected errors print ``error: ...`` and exit 2;
    a returned ``int`` is the script's exit code (Hydra drops it), anything else is returned."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            result = main(*args, **kwargs)
        except expected_errors() as err:
            if debugging():
                raise
            print(f"error: {one_line(err)}", file=sys.stderr)  # HYDRA_FULL_ERROR=1 shows the traceback
            sys.exit(EXIT_CODE)
        if type(result) is int and result:
            sys.exit(result)
        return result

    return wrapper
