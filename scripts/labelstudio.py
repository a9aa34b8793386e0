"""Label Studio in the loop: serve a local server, push tasks with pre-annotations, pull gold, status.

export LABEL_STUDIO_USERNAME=you@example.com LABEL_STUDIO_PASSWORD=... LABEL_STUDIO_USER_TOKEN=...
python scripts/labelstudio.py serve                       # http://127.0.0.1:8080, data in .labelstudio/
python scripts/labelstudio.py push --inputs seeds         # rule pre-annotations, one task per report
python scripts/labelstudio.py push --inputs seeds --per paragraph --title govreport-ner-paragraphs
python scripts/labelstudio.py push --inputs seeds --checkpoint runs/e5_small/holdout-none
python scripts/labelstudio.py pull                        # -> annotations/pulls/labelstudio-<UTC>.json
python scripts/labelstudio.py status

Client commands use LABEL_STUDIO_URL (default http://127.0.0.1:8080) and LABEL_STUDIO_API_KEY
(a personal access token or a legacy token), falling back to LABEL_STUDIO_USER_TOKEN.
See docs/annotating.md.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from govreport_ner import labelstudio as ls
from govreport_ner.annotation.labelstudio_format import ExportValidationError
from govreport_ner.text.reader import ReportReadError


def serve(args: argparse.Namespace) -> int:
    print(f"starting Label Studio on http://{args.host}:{args.port} (data: {args.data_dir}) ...", flush=True)
    server = ls.start_server(args.data_dir, args.port, args.host, args.timeout)
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


def push(args: argparse.Namespace) -> int:
    from govreport_ner.text.seeds import metadata_by_file

    inputs = Path(args.inputs)
    result = ls.push(
        ls.connect(args.url, args.api_key),
        inputs,
        title=args.title,
        per=args.per,
        checkpoint=args.checkpoint,
        model_version=args.model_version,
        label_config=args.label_config,
        metadata=metadata_by_file(inputs, args.metadata),
    )
    print(result.summary())
    return 0


def pull(args: argparse.Namespace) -> int:
    result = ls.pull(ls.connect(args.url, args.api_key), args.title, args.out)
    print(result.summary())
    print(f"\nnext: python scripts/build_dataset.py data.gold={result.path}")
    return 0


def status(args: argparse.Namespace) -> int:
    print(ls.format_status(ls.status(ls.connect(args.url, args.api_key), args.title)))
    return 0


def parser() -> argparse.ArgumentParser:
    client = argparse.ArgumentParser(add_help=False)
    client.add_argument("--url", help=f"server URL (default: ${ls.ENV_URL} or {ls.DEFAULT_URL})")
    client.add_argument("--api-key", help=f"token (default: ${ls.ENV_API_KEY}, else ${ls.ENV_USER_TOKEN})")
    client.add_argument("--title", default=ls.DEFAULT_TITLE, help="project title (default: %(default)s)")

    main = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = main.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run a local Label Studio until Ctrl-C")
    p.add_argument("--data-dir", default=ls.DEFAULT_DATA_DIR, help="SQLite database and media (default: %(default)s)")
    p.add_argument("--port", type=int, default=ls.DEFAULT_PORT, help="(default: %(default)s)")
    p.add_argument("--host", default=ls.DEFAULT_HOST, choices=ls.LOOPBACK_HOSTS, help="bind address (loopback only)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for /health (default: %(default)s)")
    p.set_defaults(run=serve)

    p = sub.add_parser("push", parents=[client], help="import reports as tasks with pre-annotations (idempotent)")
    p.add_argument("--inputs", default="seeds", help="report file, folder of reports, or JSONL (default: %(default)s)")
    p.add_argument("--per", choices=("document", "paragraph"), default="document", help="task unit")
    p.add_argument("--checkpoint", default="rules", help="'rules' (default) or a trained model's folder")
    p.add_argument("--model-version", help="prediction model_version (default: the predictor's)")
    p.add_argument("--metadata", help="regions.csv for doc ids and regions (default: <inputs>/regions.csv)")
    p.add_argument("--label-config", default=ls.DEFAULT_LABEL_CONFIG, help="(default: %(default)s)")
    p.set_defaults(run=push)

    p = sub.add_parser("pull", parents=[client], help="export annotations to a new pull file, with a diff")
    p.add_argument("--out", default=ls.DEFAULT_PULLS_DIR, help="pulls folder (default: %(default)s)")
    p.set_defaults(run=pull)

    p = sub.add_parser("status", parents=[client], help="tasks, annotated tasks and entities per region")
    p.set_defaults(run=status)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (ls.LabelStudioError, ExportValidationError, ReportReadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
