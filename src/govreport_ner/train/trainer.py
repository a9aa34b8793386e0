"""Fine-tuning a token classifier on the gold clauses (Hugging Face Trainer, character-level evaluation)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch
from datasets import Dataset, concatenate_datasets

from govreport_ner.data.dataset import example_spans, oversample_labels
from govreport_ner.data.gold import load_gold_splits
from govreport_ner.data.silver import load_silver_dataset
from govreport_ner.evaluate.metrics import entity_scores, seqeval_scores
from govreport_ner.labels import BIO_TAGS, TAG2ID
from govreport_ner.model.alignment import IGNORE, CharAligner
from govreport_ner.model.crf import OPEN, BioCRF, CrfScores
from govreport_ner.model.modeling import build_model, save_checkpoint
from govreport_ner.model.tagger import Tagger
from govreport_ner.model.word_boundaries import clause_token_tags
from govreport_ner.model.word_embedding import WordBoundaryModel
from govreport_ner.spans import spans_to_bio
from govreport_ner.train.collator import WindowCollator
from govreport_ner.train.model_card import write_model_card
from govreport_ner.train.settings import TrainerSettings, TrainRun

log = logging.getLogger(__name__)


def encode_windows(
    dataset: Dataset, aligner: CharAligner, word_boundaries: bool = False, unasserted_o: int = IGNORE
) -> Dataset:
    """Model inputs for every clause: one row per window, labels on tokens (and word-boundary tags, if asked).

    In a clause marked ``partial`` (silver with open labels) an O token gets ``unasserted_o``
    instead: :data:`~govreport_ner.model.crf.OPEN` for a CRF, or ignored by a softmax loss.
    """
    rows = []
    names = dataset.features["ner_tags"].feature.names
    for example in dataset:
        encoding = aligner.encode(example["text"])
        if not encoding.ids:
            continue
        tags = [names[i] for i in example["ner_tags"]]
        labels = aligner.token_labels(encoding, tags)
        if example.get("partial"):
            labels = [unasserted_o if label == TAG2ID["O"] else label for label in labels]
        word_tags = clause_token_tags(example["text"], encoding.spans) if word_boundaries else None
        for window in aligner.windows(encoding, labels, word_tags):
            row = {
                "input_ids": window.input_ids,
                "attention_mask": [1] * len(window.input_ids),
                "labels": window.labels,
            }
            if word_boundaries:
                row["word_tags"] = window.word_tags
            rows.append(row)
    return Dataset.from_list(rows)


def boundary_loss_rate(dataset: Dataset, aligner: CharAligner) -> dict[str, int]:
    """Entity boundaries inside a token (lost by the encoding) out of all boundaries."""
    names = dataset.features["ner_tags"].feature.names
    lost = sum(aligner.boundary_loss(aligner.encode(e["text"]), [names[i] for i in e["ner_tags"]]) for e in dataset)
    return {"boundaries_inside_tokens": lost, "boundaries": 2 * sum(len(e["spans"]) for e in dataset)}


def evaluate_tagger(tagger: Tagger, dataset: Dataset, batch_size: int = 32) -> tuple[dict, list[list]]:
    """Character-level seqeval and span scores of a tagger on gold clauses; also the predictions."""
    predicted = tagger.predict_clauses(dataset["text"], batch_size)
    gold = [example_spans(e) for e in dataset]
    gold_tags = [spans_to_bio(len(t), g) for t, g in zip(dataset["text"], gold, strict=True)]
    pred_tags = [spans_to_bio(len(t), p) for t, p in zip(dataset["text"], predicted, strict=True)]
    scores = entity_scores(
        list(zip(dataset["id"], gold, strict=True)), list(zip(dataset["id"], predicted, strict=True))
    )
    metrics = {f"seqeval_{k}": v for k, v in seqeval_scores(gold_tags, pred_tags).items()}
    metrics.update({f"f1_{label}": row["f1"] for label, row in scores["strict"]["per_label"].items()})
    metrics["micro_f1"] = scores["strict"]["micro"]["f1"]
    metrics["macro_f1"] = scores["strict"]["macro"]["f1"]
    return metrics, predicted


def weighted_loss(class_weight_o: float):
    """Cross-entropy with the O tag down- (or up-) weighted; None when the weight is 1."""
    if class_weight_o == 1.0:
        return None
    weights = torch.ones(len(BIO_TAGS))
    weights[TAG2ID["O"]] = class_weight_o

    def compute_loss(outputs, labels, num_items_in_batch=None):
        logits = outputs.logits.view(-1, len(BIO_TAGS))
        return torch.nn.functional.cross_entropy(
            logits, labels.view(-1), weight=weights.to(logits.device), ignore_index=-100
        )

    return compute_loss


def crf_loss(crf: BioCRF, open_labels: Sequence[str] = ()):
    """The CRF's negative log-likelihood of the gold tags as the training loss (``open_labels``: the
    labels an unasserted O token of partial silver may also take)."""
    open_tags = [TAG2ID[f"{prefix}-{label}"] for label in open_labels for prefix in "BI"]

    def compute_loss(outputs, labels, num_items_in_batch=None):
        return crf.loss(outputs.logits, labels, open_tags)

    return compute_loss


def crf_scores(model) -> CrfScores | None:
    """The learned CRF scores of a model trained with a CRF layer (None for softmax)."""
    return model.crf.scores() if hasattr(model, "crf") else None


def _trainer_class():
    """A Trainer whose evaluation scores characters (seqeval), so every tokenizer is scored alike."""
    from transformers import Trainer

    class CharEvalTrainer(Trainer):
        eval_clauses: Dataset | None = None
        aligner: CharAligner | None = None

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
            if self.eval_clauses is None or len(self.eval_clauses) == 0:
                return {}
            tagger = Tagger(self.model, self.processing_class, self.aligner, crf=crf_scores(self.model))
            metrics, _ = evaluate_tagger(tagger, self.eval_clauses, self.args.per_device_eval_batch_size)
            self.model.train()
            metrics = {f"{metric_key_prefix}_{k}": v for k, v in metrics.items()}
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
            return metrics

    return CharEvalTrainer


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest ``checkpoint-N`` folder of an interrupted run, if any."""
    from transformers.trainer_utils import get_last_checkpoint

    checkpoints = output_dir / "checkpoints"
    return get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None


def training_arguments(t: TrainerSettings, output_dir: Path, has_eval: bool):
    """TrainingArguments from the trainer settings."""
    from transformers import TrainingArguments

    eval_strategy = t.eval_strategy if has_eval else "no"
    return TrainingArguments(
        output_dir=str(output_dir / "checkpoints"),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,
        seed=t.seed,
        data_seed=t.seed,
        eval_strategy=eval_strategy,
        save_strategy=t.save_strategy,
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        logging_steps=t.logging_steps,
        report_to="none",  # TensorBoard, when asked, through tensorboard_callbacks (its own log folder)
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=False,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
    )


def tensorboard_callbacks(enabled: bool, output_dir: Path) -> list:
    """A TensorBoard logger writing to ``output_dir/tensorboard`` (``tensorboard --logdir runs``), if asked."""
    if not enabled:
        return []
    from torch.utils.tensorboard import SummaryWriter
    from transformers.integrations import TensorBoardCallback

    return [TensorBoardCallback(SummaryWriter(log_dir=str(output_dir / "tensorboard")))]


def build_trainer(run: TrainRun, model, tokenizer, args, train_windows: Dataset, eval_windows=None, log_dir=None):
    """A Trainer of ``model`` on ``train_windows`` with the run's loss (CRF or weighted softmax)."""
    return _trainer_class()(
        model=model,
        args=args,
        train_dataset=train_windows,
        eval_dataset=eval_windows,
        data_collator=WindowCollator(tokenizer),
        processing_class=tokenizer,
        callbacks=tensorboard_callbacks(run.trainer.tensorboard, log_dir) if log_dir else [],
        compute_loss_func=crf_loss(model.crf, open_labels(run))
        if run.model.crf
        else weighted_loss(run.trainer.class_weight_o),
    )


def write_log(trainer, path: Path) -> None:
    """The Trainer's log history (loss, learning rate, evaluations), one JSON object a line."""
    with path.open("w", encoding="utf-8") as handle:
        for row in trainer.state.log_history:
            handle.write(json.dumps(row) + "\n")


def open_labels(run: TrainRun) -> tuple[str, ...]:
    """The labels silver leaves open (its O asserts nothing about them); none without silver."""
    return tuple(run.silver.open_labels) if run.silver and run.silver.dir else ()


def silver_windows(run: TrainRun, silver: Dataset, aligner: CharAligner) -> Dataset:
    """The silver clauses as training windows, their O left open for ``silver.open_labels``."""
    if open_labels(run):
        silver = silver.add_column("partial", [True] * len(silver))
    unasserted_o = OPEN if run.model.crf else IGNORE
    return encode_windows(silver, aligner, run.model.word_boundaries, unasserted_o)


def pretrain_on_silver(run: TrainRun, model, tokenizer, aligner: CharAligner, silver: Dataset) -> dict:
    """``silver.epochs`` on the silver clauses before the gold (in ``output_dir/silver``, resumable)."""
    stage_dir = Path(run.output_dir) / "silver"
    settings = replace(run.trainer, epochs=run.silver.epochs, max_steps=-1)
    windows = silver_windows(run, silver, aligner)
    log.info(
        "silver: %d clauses -> %d windows, %s epoch(s) before the gold", len(silver), len(windows), settings.epochs
    )
    trainer = build_trainer(
        run, model, tokenizer, training_arguments(settings, stage_dir, False), windows, None, stage_dir
    )
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=last_checkpoint(stage_dir) if settings.resume else None)
    write_log(trainer, stage_dir / "train_log.jsonl")
    if not settings.keep_checkpoints:
        shutil.rmtree(stage_dir / "checkpoints", ignore_errors=True)
    return {
        "silver_clauses": len(silver),
        "silver_windows": len(windows),
        "silver_seconds": time.perf_counter() - started,
    }


def train(run: TrainRun) -> dict:
    """Train, evaluate on the held-out regions, and write the checkpoint and reports to ``run.output_dir``."""
    from transformers import set_seed

    output_dir, t = Path(run.output_dir), run.trainer
    output_dir.mkdir(parents=True, exist_ok=True)
    if t.num_threads:
        torch.set_num_threads(t.num_threads)
    set_seed(t.seed)

    splits = load_gold_splits(run.gold)
    train_clauses, test_clauses = splits["train"], splits.get("test")
    silver = load_silver_dataset(run.silver.dir, run.gold) if run.silver and run.silver.dir else None
    tokenizer, model = build_model(run.model, train_clauses["text"], seed=t.seed)
    word_boundaries = run.model.word_boundaries
    if word_boundaries:
        model = WordBoundaryModel(model)  # its forward takes word_tags, so the Trainer keeps the column
    if run.model.crf:
        model.crf = BioCRF()  # a submodule: trained, checkpointed and resumed with the encoder
    aligner = CharAligner(tokenizer, run.model.one_token_per_char, run.model.max_length, run.model.stride)
    fit_clauses = oversample_labels(train_clauses, t.oversample or {})
    train_windows = encode_windows(fit_clauses, aligner, word_boundaries)
    if silver is not None and run.silver.mode == "mix":  # one round of self-training: silver beside the gold
        train_windows = concatenate_datasets([train_windows, silver_windows(run, silver, aligner)])
    log.info(
        "train: %d clauses -> %d windows; test: %d clauses",
        len(train_clauses),
        len(train_windows),
        len(test_clauses) if test_clauses is not None else 0,
    )

    resume = last_checkpoint(output_dir) if t.resume else None
    stage_metrics = {}
    if silver is not None and run.silver.mode == "pretrain" and not resume:
        stage_metrics = pretrain_on_silver(run, model, tokenizer, aligner, silver)
    elif silver is not None:
        stage_metrics = {"silver_clauses": len(silver)}
    trainer = build_trainer(
        run,
        model,
        tokenizer,
        training_arguments(t, output_dir, test_clauses is not None),
        train_windows,
        encode_windows(test_clauses, aligner, word_boundaries) if test_clauses is not None else None,
        output_dir,
    )
    trainer.eval_clauses, trainer.aligner = test_clauses, aligner
    if resume:
        log.info("resuming from %s", resume)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - started

    alignment = {
        "one_token_per_char": run.model.one_token_per_char,
        "max_length": run.model.max_length,
        "stride": run.model.stride,
        "model_version": f"{run.name}-{output_dir.name}",
    }
    crf = crf_scores(trainer.model)
    if crf is not None:
        del trainer.model.crf  # the encoder is saved in the Hugging Face layout, the CRF beside it
    model_dir = save_checkpoint(trainer.model, tokenizer, output_dir / "model", alignment)
    if crf is not None:
        crf.save(model_dir)
    metrics = {
        "train_loss": result.training_loss,
        "train_seconds": seconds,
        "train_steps": result.global_step,
        "epochs": t.epochs,
        "train_clauses": len(train_clauses),
        "train_clauses_oversampled": len(fit_clauses),
        "train_windows": len(train_windows),
        "holdout": run.gold.holdout,
        "torch_threads": torch.get_num_threads(),
        **stage_metrics,
        **boundary_loss_rate(train_clauses, aligner),
    }
    if test_clauses is not None:
        tagger = Tagger(trainer.model.eval(), tokenizer, aligner, crf=crf)
        test_metrics, _ = evaluate_tagger(tagger, test_clauses, t.eval_batch_size)
        metrics.update({f"test_{k}": v for k, v in test_metrics.items()})
        metrics["test_clauses"] = len(test_clauses)
    (output_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    write_log(trainer, output_dir / "train_log.jsonl")
    card = write_model_card(run, model_dir, train_clauses, metrics)
    if not t.keep_checkpoints:  # the model is in model/; the rest is hundreds of MB
        shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)
    log.info("metrics: %s", json.dumps(metrics, ensure_ascii=False))
    log.info("model card: %s", card)
    return metrics
