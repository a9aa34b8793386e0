"""``runner=ray``: the batch of :func:`govreport_ner.predict.batch.run_batch` on Ray Data.

::

    driver: inputs ─▶ rows (report paths, JSONL documents, input failures; shard and resume
            applied as the local runner does) ─▶ ray.data.from_items
    actors: map_batches over an actor pool; each actor loads the predictor once (torch, ONNX
            or rules) and turns a batch of rows into documents (reading the report files),
            tags them together (``tag_documents``) and builds each document's output line
            (``writers.document_record`` + the writer's ``partial_line``)
    driver: rows come back in input order ─▶ the local runner's checks (duplicate ids,
            empty texts) ─▶ lines appended to ``<output>.partial`` ─▶ ``writer.finish``

So the output is the local runner's, line for line: the same records, the same order, the
same partial file (resume reads it back), the same atomic final write, the same failures
and exit code. Report files are read on the workers: on a cluster the inputs, like the
checkpoint, must be at the same path on every node (a shared file system). JSONL inputs are
read on the driver and travel in the rows.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from govreport_ner.predict.batch import Summary, _progress, _tag, check_batch, finish_output
from govreport_ner.predict.writers import _sync, document_record, make_writer, partial_path, prepare_partial
from govreport_ner.text.inputs import Failure, count_inputs, iter_documents, parse_shard, read_input_file
from govreport_ner.text.reader import Document

log = logging.getLogger(__name__)

FIELDS = ("kind", "id", "source", "text", "encoding", "path", "reason")
SYNC_EVERY = 256  # documents between fsyncs of the partial file


def _row(item: Document | Failure | Path) -> dict:
    """One input row (every row has every field, so that Ray sees one schema)."""
    row = dict.fromkeys(FIELDS, "")
    if isinstance(item, Path):
        row.update(kind="path", id=item.stem, source=str(item), path=str(item.absolute()))
    elif isinstance(item, Failure):
        row.update(kind="failure", id=item.id, source=item.source, reason=item.reason)
    else:
        row.update(kind="doc", id=item.id, source=item.source, text=item.text, encoding=item.encoding)
    return row


def _absolute(value):
    """A path made absolute (the members of an ensemble each); None, "" and "rules" as they are."""
    if isinstance(value, list | tuple):
        return [_absolute(v) for v in value]
    return str(Path(value).resolve()) if value not in (None, "", "rules") else value


class TagDocuments:
    """The ``map_batches`` stage: one predictor per actor, loaded once; rows in, output lines out."""

    def __init__(self, predictor_options: Mapping, fmt: str, per: str):
        from govreport_ner.predict.predictors import load_predictor

        logging.basicConfig(level=logging.WARNING)
        self.predictor = load_predictor(dict(predictor_options))
        self.writer = make_writer(fmt, per)

    def __call__(self, batch: Mapping[str, Sequence]) -> dict[str, list]:
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
        out = {key: [] for key in ("kind", "id", "source", "encoding", "reason", "line", "chars", "labels", "targets")}
        docs: list[Document | Failure] = []
        for row in rows:
            if row["kind"] == "path":
                item = replace(read_input_file(Path(row["path"])), source=row["source"])  # as the driver named it
            elif row["kind"] == "doc":
                item = Document(row["id"], row["text"], row["source"], row["encoding"])
            else:
                item = Failure(row["id"], row["source"], row["reason"])
            docs.append(item)
        todo = [d for d in docs if isinstance(d, Document) and d.text.strip()]
        tagged = dict(zip((id(d) for d in todo), _tag(self.predictor, [d.text for d in todo]), strict=True))
        version = self.predictor.model_version
        for item in docs:
            kind, reason, line, record = "ok", "", "", None
            if isinstance(item, Failure):
                kind, reason = "failure", item.reason
            elif id(item) not in tagged:
                kind = "empty"  # the driver decides: a duplicate id, or an empty text
            else:
                clauses, spans = tagged[id(item)]
                try:
                    record = document_record(item, spans, version, clauses)
                    line = json.dumps(self.writer.partial_line(item, record, version, spans), ensure_ascii=False)
                except Exception as err:  # one odd document must not stop the batch: report it
                    log.exception("document %s", item.id)
                    kind, reason, record = "error", f"{type(err).__name__}: {err}", None
            out["kind"].append(kind)
            out["id"].append(item.id)
            out["source"].append(item.source)
            out["encoding"].append(getattr(item, "encoding", ""))
            out["reason"].append(reason)
            out["line"].append(line)
            out["chars"].append(len(item.text) if record else 0)
            out["labels"].append(json.dumps([e["label"] for e in record["entities"]]) if record else "[]")
            out["targets"].append(len(record["targets"]) if record else 0)
        return out

    @staticmethod
    def describe(predictor_options: Mapping) -> tuple[str, str]:
        """``(model_version, engine)`` of the predictor the actors load (loaded once here)."""
        from govreport_ner.predict.predictors import load_predictor

        predictor = load_predictor(dict(predictor_options))
        return predictor.model_version, getattr(predictor, "engine", "")


def _runtime_env() -> dict:
    """The actors import this package from where the driver did (a checkout, or site-packages) first."""
    import govreport_ner

    here = str(Path(govreport_ner.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


def _start_ray(address: str | None):
    """Join ``address`` ("auto", "ray://host:port", "host:port"), or start a local Ray; returns a stop function.

    A Ray already started in this process (``ray.init`` by the caller) is used as it is and left running.
    """
    import ray

    if ray.is_initialized():
        return lambda: None
    ray.init(address=address or None, include_dashboard=False, logging_level=logging.WARNING)
    return ray.shutdown


def run_ray(
    predictor_options: Mapping,
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    fmt: str = "jsonl",
    resume: bool = False,
    shard: str | tuple[int, int] | None = None,
    per: str = "document",
    progress: bool = True,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1,
    batch_docs: int = 16,
) -> Summary:
    """Predict every document of ``inputs`` into ``output`` on Ray Data; see the module docstring.

    ``predictor_options`` is what :func:`~govreport_ner.predict.predictors.load_predictor`
    takes (``checkpoint`` and the predictor keys); each actor loads it with ``num_threads``
    defaulting to ``cpus_per_actor``. ``actors`` null: as many as the cluster's CPUs allow.
    """
    import ray
    import ray.data

    output = Path(output)
    writer = make_writer(fmt, per)
    shard_pair = parse_shard(shard)
    paths = check_batch(inputs, output, missing_ok=True)  # as run_batch: a missing input is a failure
    options = dict(predictor_options)
    for key in ("checkpoint", "onnx_dir"):  # the actors do not run in this folder
        options[key] = _absolute(options.get(key))
    if options.get("num_threads") is None:
        options["num_threads"] = max(1, int(cpus_per_actor))
    started = time.perf_counter()
    # Loaded once here before any actor: an ONNX export is made (and cached) once, not by every actor at once.
    model_version, engine = TagDocuments.describe(options)
    load_seconds = time.perf_counter() - started

    done, resumed = prepare_partial(output, writer, resume, model_version)
    rows = [_row(item) for item in iter_documents(paths, shard_pair, done, read=lambda path: path)]
    ray_started = time.perf_counter()
    stop = _start_ray(address)
    ray_seconds = time.perf_counter() - ray_started
    try:
        if actors is None:
            actors = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
        summary = Summary(
            output=str(output),
            format=fmt,
            model_version=model_version,
            engine=engine,
            rule_labels=tuple(options.get("rule_labels") or ()) if str(options.get("checkpoint")) != "rules" else (),
            runner=f"ray, {actors} actor{'s' if actors != 1 else ''} x {cpus_per_actor:g} CPU, Ray up in {ray_seconds:.1f} s",
            shard=f"{shard_pair[0]}/{shard_pair[1]}" if shard_pair else None,
            resumed=resumed,
            load_seconds=load_seconds,
        )
        if rows:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True  # lines in input order, as the local runner writes them
            context.enable_progress_bars = False  # ours counts documents; Ray's would draw over it
            logging.getLogger("ray.data").setLevel(logging.ERROR)  # its plan and progress notes; the summary says it
            blocks = min(len(rows), max(int(actors), math.ceil(len(rows) / int(batch_docs))))
            tagged = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
                TagDocuments,
                fn_constructor_kwargs={"predictor_options": options, "fmt": fmt, "per": per},
                batch_size=int(batch_docs),
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=int(actors)),
                num_cpus=cpus_per_actor,
                runtime_env=_runtime_env(),
            )
            results = tagged.iter_rows()
        else:
            results = iter(())
        _collect(results, summary, partial_path(output), done, count_inputs(paths, shard_pair, done), progress)
    finally:
        stop()
    finish_output(writer, partial_path(output), output, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _collect(rows, summary: Summary, partial: Path, done: set[str], total: int | None, progress: bool) -> None:
    """The local runner's decisions per document, in input order; lines appended to ``partial``.

    ``done``: the ids already in the output (resume); a later document with one of them is a duplicate.
    """
    seen: set[str] = set(done)
    with partial.open("a", encoding="utf-8") as handle, _progress(total, progress) as bar:
        for n, row in enumerate(rows, 1):
            doc_id, source, kind = str(row["id"]), str(row["source"]), str(row["kind"])
            if kind == "failure":
                summary.failures.append(Failure(doc_id, source, str(row["reason"])))
            elif doc_id in seen:
                summary.failures.append(Failure(doc_id, source, "duplicate document id (kept the first)"))
            elif kind == "empty":
                summary.failures.append(Failure(doc_id, source, "empty text"))
            else:
                seen.add(doc_id)
                if kind == "error":
                    summary.failures.append(Failure(doc_id, source, str(row["reason"])))
                else:
                    handle.write(str(row["line"]) + "\n")
                    handle.flush()
                    labels = json.loads(row["labels"])
                    summary.documents += 1
                    summary.encodings[str(row["encoding"])] += 1
                    summary.characters += int(row["chars"])
                    summary.entities += len(labels)
                    summary.labels.update(labels)
                    summary.targets += int(row["targets"])
            if n % SYNC_EVERY == 0:
                _sync(handle)
            bar.update(1)
        _sync(handle)
