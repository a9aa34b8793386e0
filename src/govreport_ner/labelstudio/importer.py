"""``push``: reports as Label Studio tasks with pre-annotations, imported idempotently.

The pure parts (task keys, the push plan) take plain data and are unit-tested without a server."""

from __future__ import annotations

import importlib
import importlib.util
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govreport_ner.annotation.corpus_gold import excerpt_task_data, excerpt_text
from govreport_ner.annotation.excerpts import read_excerpts_csv
from govreport_ner.annotation.labelstudio_format import (
    add_prediction,
    document_tasks,
)
from govreport_ner.extract import rules
from govreport_ner.labelstudio.client import (
    ApiSettings,
    LabelStudioError,
    PushConflict,
    ensure_project,
)
from govreport_ner.predict.protocol import RulePredictor
from govreport_ner.spans import Span
from govreport_ner.spans import check_spans as checked_spans
from govreport_ner.text.reader import ReportReadError, iter_inputs
from govreport_ner.text.seeds import SeedMeta

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio


Predictor = Callable[[str], Sequence[Span]]


TaskKey = tuple[str, int]


def task_key(data: Mapping[str, Any]) -> TaskKey:
    """The identity of a task: ``(doc_id, offset)`` of its ``data`` (the push idempotency key)."""
    return str(data["doc_id"]), int(data.get("offset", 0))


@dataclass(frozen=True)
class ExistingTask:
    """What push needs to know of a task already in the project."""

    id: int
    doc_id: str
    offset: int
    text: str
    model_versions: frozenset[str] = frozenset()

    @property
    def key(self) -> TaskKey:
        return self.doc_id, self.offset


@dataclass
class PushPlan:
    """What a push will do: import new tasks, add missing predictions to existing ones, or refuse."""

    to_import: list[dict] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # existing task ids that already have everything
    add_predictions: list[tuple[int, dict]] = field(default_factory=list)  # (task id, prediction)
    conflicts: list[str] = field(default_factory=list)


def _overlaps(a_start: int, a_len: int, b_start: int, b_len: int) -> bool:
    return a_start < b_start + b_len and b_start < a_start + a_len


def plan_push(tasks: Sequence[dict], existing: Sequence[ExistingTask], model_version: str | None = None) -> PushPlan:
    """Compare tasks to push with the project's tasks (pure: no server).

    A task whose key is in the project with the same text is not imported again; if it
    lacks a prediction of ``model_version``, the task's prediction of that version is
    added. Conflicts (nothing is imported if there are any): a key already in the project
    with another text, a key twice in the push, and texts of one document that overlap
    without being the same task (e.g. per-paragraph tasks pushed into a per-document project).
    """
    plan = PushPlan()
    by_key = {t.key: t for t in existing}
    by_doc: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for t in existing:
        by_doc[t.doc_id].append((t.offset, len(t.text), f"project task {t.id}"))
    seen: dict[TaskKey, int] = {}
    for n, task in enumerate(tasks):
        data = task["data"]
        key = task_key(data)
        where = f"{key[0]}@{key[1]}"
        if key in seen:
            plan.conflicts.append(f"{where}: pushed twice (inputs {seen[key]} and {n}); doc ids must be unique")
            continue
        seen[key] = n
        old = by_key.get(key)
        if old is not None:
            if old.text != data["text"]:
                plan.conflicts.append(
                    f"{where}: project task {old.id} has another text ({len(old.text)} vs {len(data['text'])} chars)"
                )
                continue
            prediction = next(
                (p for p in reversed(task.get("predictions", [])) if p.get("model_version") == model_version), None
            )
            if model_version and prediction is not None and model_version not in old.model_versions:
                plan.add_predictions.append((old.id, prediction))
            else:
                plan.unchanged.append(old.id)
            continue
        clash = [name for start, length, name in by_doc[key[0]] if _overlaps(key[1], len(data["text"]), start, length)]
        if clash:
            plan.conflicts.append(f"{where}: overlaps {', '.join(clash)} of the same document")
            continue
        by_doc[key[0]].append((key[1], len(data["text"]), f"pushed task {where}"))
        plan.to_import.append(task)
    return plan


def rule_predictor() -> tuple[Predictor, str]:
    """The rule pre-annotator on whole documents and its model version.

    No clause budget, as for the gold's rule baseline (``annotation_report``); see
    :class:`govreport_ner.predict.protocol.RulePredictor`.
    """
    predictor = RulePredictor(max_chars=None)
    return predictor.predict_spans, predictor.model_version


def load_checkpoint_predictor(path: Path | str) -> tuple[Predictor, str]:
    """A trained model's ``predict_spans`` via ``govreport_ner.predict.predictors.load_predictor(path)``.

    The model version is the predictor's ``model_version`` attribute if it has one, else
    ``checkpoint:<folder name>``.
    """
    if not Path(path).exists():
        raise LabelStudioError(f"checkpoint {path} does not exist (use --checkpoint rules for rule pre-annotations)")
    try:
        inference = importlib.import_module("govreport_ner.predict.predictors")
    except ImportError as err:
        raise LabelStudioError(
            f"model pre-annotations from {path} need govreport_ner.predict.predictors.load_predictor, which cannot be "
            f"imported ({err}); use --checkpoint rules, or install what govreport_ner.predict.predictors needs"
        ) from err
    load = getattr(inference, "load_predictor", None)
    if load is None:
        raise LabelStudioError("govreport_ner.predict.predictors has no load_predictor(path); cannot load a checkpoint")
    predictor = load(path)
    if not callable(getattr(predictor, "predict_spans", None)):
        raise LabelStudioError(f"load_predictor({path!r}) returned {type(predictor).__name__} without predict_spans")
    return predictor.predict_spans, str(getattr(predictor, "model_version", None) or f"checkpoint:{Path(path).name}")


def resolve_predictor(checkpoint: Any, model_version: str | None = None) -> tuple[Predictor, str]:
    """``(predict_spans, model_version)`` for ``checkpoint``.

    ``"rules"``/None: the rules. A callable ``text -> list[Span]`` or an object with
    ``predict_spans``: used as is (version: ``model_version`` argument, else its
    ``model_version`` attribute, else its name). Anything else is a checkpoint path.
    """
    if checkpoint is None or checkpoint == "rules":
        predict, version = rule_predictor()
    elif callable(getattr(checkpoint, "predict_spans", None)):
        predict = checkpoint.predict_spans
        version = str(getattr(checkpoint, "model_version", None) or type(checkpoint).__name__)
    elif callable(checkpoint):
        predict = checkpoint
        version = str(getattr(checkpoint, "model_version", None) or getattr(checkpoint, "__name__", "predictor"))
    else:
        predict, version = load_checkpoint_predictor(checkpoint)
    return predict, model_version or version


def build_tasks(
    inputs: Path | str,
    per: str = "document",
    predict_spans: Predictor | None = None,
    model_version: str = rules.MODEL_VERSION,
    metadata: Mapping[str, SeedMeta] | None = None,
) -> tuple[list[dict], list[ReportReadError]]:
    """Tasks with one prediction each for every report of ``inputs``, and the reports that failed.

    ``metadata`` maps file names to :class:`SeedMeta` (doc id and region), as
    :func:`govreport_ner.commands.pipeline.metadata_by_file` returns; files not in it keep their stem as id.
    """
    predict_spans = predict_spans or rule_predictor()[0]
    metadata = metadata or {}
    tasks: list[dict] = []
    failed: list[ReportReadError] = []
    for item in iter_inputs(inputs):
        if isinstance(item, ReportReadError):
            failed.append(item)
            continue
        meta = metadata.get(Path(item.source).name)
        doc = replace(item, id=meta.doc_id) if meta else item
        spans = checked_spans(doc.text, predict_spans(doc.text), doc.id)
        for task in document_tasks(doc, meta.region if meta else "", per, {"source": Path(item.source).name}):
            tasks.append(add_prediction(task, spans, model_version))
    return tasks, failed


def build_excerpt_tasks(
    excerpts_csv: Path | str,
    corpus_dir: Path | str,
    predict_spans: Predictor | None = None,
    model_version: str = rules.MODEL_VERSION,
) -> list[dict]:
    """One task per corpus excerpt of ``excerpts.csv`` (text rebuilt and checked against its sha256),
    with what a pull needs to write standoff gold back (source, sha256, offset)."""
    predict_spans = predict_spans or rule_predictor()[0]
    tasks = []
    for excerpt in read_excerpts_csv(excerpts_csv):
        text = excerpt_text(excerpt.to_row(), corpus_dir)
        spans = checked_spans(text, predict_spans(text), excerpt.doc_id)
        tasks.append(add_prediction({"data": excerpt_task_data(excerpt, text)}, spans, model_version))
    return tasks


def existing_tasks(client: LabelStudio, project_id: int, api: ApiSettings) -> list[ExistingTask]:
    """The project's tasks with their keys, texts and prediction model versions."""
    out = []
    for task in client.tasks.list(project=project_id, fields="all", page_size=api.page_size):
        data = task.data or {}
        if "doc_id" not in data or not isinstance(data.get("text"), str):
            continue  # not one of ours: never matched, never touched
        versions = frozenset(p.model_version for p in (task.predictions or []) if getattr(p, "model_version", None))
        doc_id, offset = task_key(data)
        out.append(ExistingTask(task.id, doc_id, offset, data["text"], versions))
    return out


@dataclass
class PushResult:
    """What a push did."""

    project_id: int
    project: str  # created / found / updated labeling config
    model_version: str
    imported: int = 0
    unchanged: int = 0
    predictions_added: int = 0
    failed_inputs: list[ReportReadError] = field(default_factory=list)

    def summary(self) -> str:
        """One line per fact, for the CLI."""
        lines = [
            f"project {self.project_id} ({self.project})",
            f"imported {self.imported} new task(s) with {self.model_version} predictions",
            f"{self.unchanged} task(s) already there, unchanged",
        ]
        if self.predictions_added:
            lines.append(f"added {self.model_version} predictions to {self.predictions_added} existing task(s)")
        lines += [f"SKIPPED {err}" for err in self.failed_inputs]
        return "\n".join(lines)


def push(
    client: LabelStudio,
    inputs: Path | str,
    api: ApiSettings,
    title: str,
    per: str,
    checkpoint: Any,
    label_config: Path | str,
    model_version: str | None = None,
    metadata: Mapping[str, SeedMeta] | None = None,
    excerpts: Path | str | None = None,
    corpus_dir: Path | str | None = None,
) -> PushResult:
    """Create/find the project and import the reports of ``inputs`` as tasks with predictions.

    Idempotent: tasks are keyed on ``(data.doc_id, data.offset)``; a second push imports
    nothing, except predictions of a new ``model_version`` for tasks that lack them. Any
    conflict (see :func:`plan_push`) aborts before anything is imported. The project's
    model version is set to this push's, so the labeling UI shows its predictions.
    """
    predict, version = resolve_predictor(checkpoint, model_version)
    if excerpts:  # corpus excerpts (standoff gold comes back with pull)
        tasks, failed = build_excerpt_tasks(excerpts, corpus_dir, predict, version), []
    else:
        tasks, failed = build_tasks(inputs, per, predict, version, metadata)
    project_id, what = ensure_project(client, title, Path(label_config).read_text(encoding="utf-8"), api)
    plan = plan_push(tasks, existing_tasks(client, project_id, api), version)
    if plan.conflicts:
        raise PushConflict(plan.conflicts)
    batch = api.import_batch
    for i in range(0, len(plan.to_import), batch):
        client.projects.import_tasks(project_id, request=plan.to_import[i : i + batch], return_task_ids=True)
    for task_id, prediction in plan.add_predictions:
        client.predictions.create(
            task=task_id,
            result=prediction["result"],
            score=prediction.get("score"),
            model_version=prediction["model_version"],
        )
    if client.projects.get(project_id).model_version != version:
        client.projects.update(project_id, model_version=version)
    return PushResult(
        project_id, what, version, len(plan.to_import), len(plan.unchanged), len(plan.add_predictions), failed
    )
