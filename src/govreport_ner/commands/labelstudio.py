"""``scripts/labelstudio.py``: serve a local Label Studio, push tasks with pre-annotations, pull gold, status."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from govreport_ner import labelstudio as ls
from govreport_ner.annotation.labelstudio_format import ExportValidationError
from govreport_ner.text.reader import ReportReadError

VERBS = ("serve", "push", "pull", "status")


def api_settings(cfg: DictConfig) -> ls.ApiSettings:
    """The ``api`` block of ``configs/labelstudio.yaml``."""
    return ls.ApiSettings(**OmegaConf.to_container(cfg.api, resolve=True))


def client(cfg: DictConfig):
    """An SDK client for ``url`` (checked: an unreachable server is an error at once)."""
    return ls.connect(cfg.url, cfg.api_key, api_settings(cfg))


def serve(cfg: DictConfig) -> int:
    print(f"starting Label Studio on http://{cfg.host}:{cfg.port} (data: {cfg.data_dir}) ...", flush=True)
    server = ls.start_server(cfg.data_dir, int(cfg.port), cfg.host, float(cfg.timeout), api_settings(cfg))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the server on SIGTERM too
    try:
        print(f"Label Studio is up at {server.url} after {server.started_in:.1f} s; log: {server.log_path}")
        print(f"log in as ${ls.ENV_USERNAME}; API commands authenticate with the legacy token ${ls.ENV_USER_TOKEN}")
        print("Ctrl-C stops it.", flush=True)
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def push(cfg: DictConfig) -> int:
    from govreport_ner.text.seeds import metadata_by_file

    inputs = Path(cfg.inputs)
    result = ls.push(
        client(cfg),
        inputs,
        api_settings(cfg),
        title=cfg.title,
        per=cfg.per,
        checkpoint=cfg.checkpoint,
        label_config=cfg.label_config,
        model_version=cfg.model_version,
        metadata=metadata_by_file(inputs, cfg.metadata),
        excerpts=cfg.excerpts,
        corpus_dir=cfg.corpus_dir,
    )
    print(result.summary())
    return 0


def pull(cfg: DictConfig) -> int:
    result = ls.pull(client(cfg), cfg.title, cfg.out, api_settings(cfg), cfg.standoff_out)
    print(result.summary())
    print(f"\nnext: python scripts/build_dataset.py data.gold={result.path}")
    return 0


def status(cfg: DictConfig) -> int:
    print(ls.format_status(ls.status(client(cfg), cfg.title, api_settings(cfg))))
    return 0


def labelstudio_command(cfg: DictConfig) -> int:
    """Run the verb ``cfg.command``; errors are printed, and the exit code returned."""
    if cfg.command not in VERBS:
        print(f"error: command must be one of {', '.join(VERBS)}, not {cfg.command!r}", file=sys.stderr)
        return 2
    if cfg.host not in ls.LOOPBACK_HOSTS:
        print(f"error: host must be one of {', '.join(ls.LOOPBACK_HOSTS)} (loopback only)", file=sys.stderr)
        return 2
    if cfg.per not in ("document", "paragraph"):
        print(f"error: per must be document or paragraph, not {cfg.per!r}", file=sys.stderr)
        return 2
    run = {"serve": serve, "push": push, "pull": pull, "status": status}[cfg.command]
    try:
        return run(cfg)
    except (ls.LabelStudioError, ExportValidationError, ReportReadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def hydra_argv(argv: list[str]) -> list[str]:
    """``push --inputs seeds --per paragraph`` -> ``command=push inputs=seeds per=paragraph`` (Hydra overrides)."""
    out, args = [], list(argv)
    if args and args[0] in VERBS:
        out.append(f"command={args.pop(0)}")
    while args:
        arg = args.pop(0)
        if arg.startswith("--") and "=" not in arg and arg not in ("--help", "--multirun", "--cfg", "--info"):
            key = arg[2:].replace("-", "_")
            out.append(f"{key}={args.pop(0)}" if args and not args[0].startswith("--") else f"{key}=true")
        elif arg.startswith("--") and "=" in arg and not arg.startswith(("--config", "--cfg")):
            key, _, value = arg[2:].partition("=")
            out.append(f"{key.replace('-', '_')}={value}")
        else:
            out.append(arg)
    return out
