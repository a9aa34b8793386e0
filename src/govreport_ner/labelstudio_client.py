"""A real Label Studio in the loop: serve it locally, push tasks with pre-annotations, pull gold, status.

Everything talks to the server through ``label-studio-sdk`` 2.x (``LabelStudio``). The pure
parts (task keys, the push plan, snapshots and the pull diff, the status table) take plain
data, so they are unit-tested without a server; ``tests/test_labelstudio_integration.py``
runs the rest against a real ``label-studio`` process.

Authentication
--------------
Label Studio 1.23 authenticates the API with either a *personal access token* (a JWT
refresh token; the SDK exchanges it for short-lived access tokens) or a *legacy token*
(``Authorization: Token ...``), and legacy tokens are disabled by default. A personal access
token cannot be fixed in advance (it is minted by the server), so :func:`start_server`
starts Label Studio with legacy tokens enabled and the admin's legacy token set to
``LABEL_STUDIO_USER_TOKEN``: the commands then know the token before the server exists.
:func:`connect` accepts either kind: the SDK tells them apart (a JWT is a personal access
token), so an annotator may use the personal access token from *Account & Settings*
instead (``LABEL_STUDIO_API_KEY``).

Offline: the server is started with Sentry, usage analytics and the PyPI version check
switched off, and only ever binds a loopback address.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import rules
from .labels import LABELS
from .labelstudio_format import (
    ExportReport,
    ExportValidationError,
    add_prediction,
    choose_annotation,
    document_tasks,
    parse_export,
)
from .reader import ReportReadError, iter_inputs
from .seeds import SeedMeta
from .spans import Span, span_from_text

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio

# ---------------------------------------------------------------- settings

ENV_USERNAME = "LABEL_STUDIO_USERNAME"  # Label Studio's own: the initial (admin) user, an e-mail address
ENV_PASSWORD = "LABEL_STUDIO_PASSWORD"  # Label Studio's own: that user's password
ENV_USER_TOKEN = "LABEL_STUDIO_USER_TOKEN"  # Label Studio's own: that user's legacy API token
ENV_API_KEY = "LABEL_STUDIO_API_KEY"  # ours (the SDK's name): a personal access token or a legacy token
ENV_URL = "LABEL_STUDIO_URL"  # ours (the SDK's name): where the server is
SERVER_ENV = (ENV_USERNAME, ENV_PASSWORD, ENV_USER_TOKEN)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
DEFAULT_DATA_DIR = ".labelstudio"
DEFAULT_TITLE = "govreport-ner"
DEFAULT_LABEL_CONFIG = "annotations/label_config.xml"
DEFAULT_PULLS_DIR = "annotations/pulls"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MIN_TOKEN_CHARS = 6  # Label Studio ignores a LABEL_STUDIO_USER_TOKEN of 5 characters or fewer
IMPORT_BATCH = 200

# Keep the server from phoning home (Sentry, telemetry, PyPI version check). The
# LABEL_STUDIO_ prefix wins over the bare names in Label Studio's settings lookup.
OFFLINE_ENV = {
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
}


class LabelStudioError(RuntimeError):
    """Anything that keeps a Label Studio command from doing its work; the message says what to do."""


class LabelStudioNotInstalled(LabelStudioError):
    """The ``label-studio`` server package is missing."""


class MissingEnvironment(LabelStudioError):
    """Required environment variables are unset; ``names`` lists them."""

    def __init__(self, names: Sequence[str], purpose: str):
        self.names = list(names)
        super().__init__(f"{purpose}: set the environment variable(s) {', '.join(self.names)}")


class ServerStartError(LabelStudioError):
    """The server did not come up; the message ends with the tail of its log."""

    def __init__(self, message: str, log_tail: str = ""):
        self.log_tail = log_tail
        super().__init__(f"{message}\n--- Label Studio log (tail) ---\n{log_tail}" if log_tail else message)


class PushConflict(LabelStudioError):
    """Tasks to push clash with tasks of the project; nothing was imported."""

    def __init__(self, conflicts: Sequence[str]):
        self.conflicts = list(conflicts)
        shown = "\n".join(f"  {c}" for c in self.conflicts[:20])
        more = f"\n  ... and {len(self.conflicts) - 20} more" if len(self.conflicts) > 20 else ""
        super().__init__(
            f"{len(self.conflicts)} task(s) clash with the project's tasks (nothing imported):\n{shown}{more}\n"
            "A task is keyed on (doc_id, offset); the same key with another text, or overlapping texts of one "
            "document, mean the reports changed or --per differs from the project's. Push into another project "
            "(--title) instead."
        )


# ---------------------------------------------------------------- server


def label_studio_command() -> list[str]:
    """The command that runs Label Studio: this interpreter's ``label_studio``, else ``label-studio`` on PATH."""
    if importlib.util.find_spec("label_studio") is not None:
        return [sys.executable, "-m", "label_studio.server"]
    exe = shutil.which("label-studio")
    if exe:
        return [exe]
    raise LabelStudioNotInstalled(
        "label-studio is not installed: pip install -e '.[server]' (or pip install 'label-studio>=1.20')"
    )


def label_studio_installed() -> bool:
    """True when :func:`label_studio_command` can find a Label Studio to run."""
    try:
        label_studio_command()
    except LabelStudioNotInstalled:
        return False
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def server_env(data_dir: Path | str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a local server: credentials from ``base``, SQLite in ``data_dir``, offline.

    Raises :class:`MissingEnvironment` naming every unset credential variable.
    """
    base = dict(os.environ if base is None else base)
    missing = [name for name in SERVER_ENV if not base.get(name)]
    if missing:
        raise MissingEnvironment(
            missing,
            "starting Label Studio needs the admin user's e-mail, password and legacy API token",
        )
    if "@" not in base[ENV_USERNAME]:
        raise LabelStudioError(f"{ENV_USERNAME} must be an e-mail address (the login name), not {base[ENV_USERNAME]!r}")
    if len(base[ENV_USER_TOKEN]) < MIN_TOKEN_CHARS:
        raise LabelStudioError(
            f"{ENV_USER_TOKEN} must be at least {MIN_TOKEN_CHARS} characters (Label Studio ignores it)"
        )
    data_dir = Path(data_dir).absolute()
    return {
        **base,
        **OFFLINE_ENV,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_DJANGO_DB": "sqlite",
        "LABEL_STUDIO_DATABASE_NAME": str(data_dir / "label_studio.sqlite3"),
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "PYTHONUNBUFFERED": "1",  # so the log tail is current when a start fails
    }


def log_tail(path: Path | str, lines: int = 60) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    path = Path(path)
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def health_ok(url: str, timeout: float = 2.0) -> bool:
    """True when ``url/health`` answers 200 with ``{"status": "UP"}``."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200 and json.loads(response.read() or b"{}").get("status") == "UP"
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Server:
    """A running local Label Studio (started by :func:`start_server`); a context manager that stops it."""

    process: subprocess.Popen
    url: str
    port: int
    data_dir: Path
    log_path: Path
    api_key: str
    started_in: float = 0.0  # seconds from launch to a healthy, authenticated server

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's log."""
        return log_tail(self.log_path, lines)

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the server (SIGTERM to its process group, SIGKILL after ``timeout``); its exit code."""
        return stop_process(self.process, timeout)

    def client(self) -> LabelStudio:
        """An SDK client for this server."""
        return connect(self.url, self.api_key)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """Terminate a process started in its own session (and its children), then reap it."""
    if process.poll() is not None:
        return process.returncode
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # the group is the server's own: start_new_session=True
        try:
            return process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()


def wait_for_health(
    url: str,
    timeout: float,
    process: subprocess.Popen | None = None,
    log_path: Path | str | None = None,
    interval: float = 0.5,
) -> float:
    """Poll ``url/health`` until it is OK; seconds waited. Raises :class:`ServerStartError` with the log tail."""
    start = time.monotonic()
    while True:
        if health_ok(url):
            return time.monotonic() - start
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"Label Studio exited with code {process.returncode} before {url}/health was OK",
                log_tail(log_path) if log_path else "",
            )
        if time.monotonic() - start > timeout:
            raise ServerStartError(
                f"Label Studio at {url} not healthy after {timeout:.0f} s", log_tail(log_path) if log_path else ""
            )
        time.sleep(interval)


def start_server(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    timeout: float = 240.0,
    env: Mapping[str, str] | None = None,
    log_path: Path | str | None = None,
) -> Server:
    """Start Label Studio on ``host:port`` with its SQLite database in ``data_dir``; wait until usable.

    The admin user, password and legacy token come from ``LABEL_STUDIO_USERNAME``,
    ``LABEL_STUDIO_PASSWORD`` and ``LABEL_STUDIO_USER_TOKEN`` in ``env`` (default: the process
    environment); the user is created on the first start. The first start runs the
    database migrations (about 35 s on 2 cores), later ones take a few seconds. Returns
    once ``/health`` is OK *and* the API token authenticates (``LABEL_STUDIO_API_KEY`` if set,
    else the legacy token ``LABEL_STUDIO_USER_TOKEN``); otherwise the server is stopped
    and :class:`ServerStartError` carries the tail of the log (``data_dir/server.log``).
    """
    if host not in LOOPBACK_HOSTS:
        raise LabelStudioError(f"refusing to bind {host!r}: only loopback addresses ({', '.join(LOOPBACK_HOSTS)})")
    command = label_studio_command()
    data_dir = Path(data_dir).absolute()
    environment = server_env(data_dir, env)
    if not port_is_free(host, port):
        raise LabelStudioError(f"port {port} on {host} is in use (another Label Studio?); choose another --port")
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path) if log_path else data_dir / "server.log"
    url = f"http://{host}:{port}"
    args = ["start", "--no-browser", "--internal-host", host, "--port", str(port), "--data-dir", str(data_dir)]
    args += ["--enable-legacy-api-token"]
    launched = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*command, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=data_dir,
            start_new_session=True,
        )
    # check the token that the client commands will use: LABEL_STUDIO_API_KEY if set, else the legacy token
    server = Server(process, url, port, data_dir, log_path, environment.get(ENV_API_KEY) or environment[ENV_USER_TOKEN])
    try:
        wait_for_health(url, timeout, process, log_path)
        if f"{host}:{port}" not in log_path.read_text(encoding="utf-8", errors="replace"):
            raise ServerStartError(f"Label Studio did not start on {host}:{port} (port taken?)", server.log_tail())
        check_auth(server.client(), url)
    except BaseException as err:
        server.stop()
        if isinstance(err, LabelStudioError) and not isinstance(err, ServerStartError):
            raise ServerStartError(str(err), server.log_tail()) from err
        raise
    server.started_in = time.monotonic() - launched
    return server


# ---------------------------------------------------------------- client


def connect(
    url: str | None = None, api_key: str | None = None, env: Mapping[str, str] | None = None, check: bool = True
) -> LabelStudio:
    """An SDK client for ``url`` authenticated by ``api_key``.

    Defaults: ``LABEL_STUDIO_URL`` (else ``http://127.0.0.1:8080``) and ``LABEL_STUDIO_API_KEY``
    (else ``LABEL_STUDIO_USER_TOKEN``, the legacy token :func:`start_server` sets up). A JWT
    (personal access token) is used as a refresh token, anything else as a legacy token.
    With ``check``, an unreachable server is a :class:`LabelStudioError` at once.
    """
    env = os.environ if env is None else env
    url = url or env.get(ENV_URL) or DEFAULT_URL
    api_key = api_key or env.get(ENV_API_KEY) or env.get(ENV_USER_TOKEN)
    if not api_key:
        raise MissingEnvironment(
            [ENV_API_KEY, ENV_USER_TOKEN], f"no API token for {url} (a personal access token or the legacy token)"
        )
    if check and not health_ok(url):
        raise LabelStudioError(
            f"no Label Studio answers at {url} (is it running? python scripts/labelstudio.py serve; "
            f"or set {ENV_URL} / --url)"
        )
    from label_studio_sdk import LabelStudio  # slow to import: only when a client is needed

    return LabelStudio(base_url=url.rstrip("/"), api_key=api_key)


def check_auth(client: LabelStudio, url: str = "") -> str:
    """The authenticated user's e-mail; a :class:`LabelStudioError` explaining a rejected token."""
    from label_studio_sdk.core.api_error import ApiError

    try:
        return client.users.whoami().email or ""
    except ApiError as err:
        if err.status_code in (401, 403):
            raise LabelStudioError(
                f"Label Studio {url} rejected the API token ({err.status_code}). A legacy token "
                f"({ENV_USER_TOKEN}) is only set when the user is first created and only works while the "
                "organization allows legacy tokens: an existing data dir may hold another user/token, or have "
                "legacy tokens disabled (Organization > API Tokens Settings). Use that user's token, a personal "
                f"access token ({ENV_API_KEY}), or a fresh --data-dir."
            ) from err
        raise


def find_project(client: LabelStudio, title: str) -> int | None:
    """The id of the project titled ``title`` (None if there is none; an error if several)."""
    ids = [p.id for p in client.projects.list(page_size=100) if p.title == title]
    if len(ids) > 1:
        raise LabelStudioError(f"{len(ids)} projects are titled {title!r} (ids {ids}); rename all but one")
    return ids[0] if ids else None


def ensure_project(client: LabelStudio, title: str, label_config: str) -> tuple[int, str]:
    """The project titled ``title``, created with ``label_config`` if missing; ``(id, what happened)``.

    An existing project whose labeling config differs gets the new config (Label Studio
    refuses it if existing annotations use a label it drops).
    """
    project_id = find_project(client, title)
    if project_id is None:
        project = client.projects.create(title=title, label_config=label_config)
        return project.id, "created"
    if _normalize_xml(client.projects.get(project_id).label_config or "") != _normalize_xml(label_config):
        client.projects.update(project_id, label_config=label_config)
        return project_id, "updated labeling config"
    return project_id, "found"


def _normalize_xml(xml: str) -> str:
    return re.sub(r">\s+<", "><", xml.strip())


def require_project(client: LabelStudio, title: str) -> int:
    """The id of the project titled ``title``; an error naming the known titles if it is missing."""
    project_id = find_project(client, title)
    if project_id is None:
        known = sorted(p.title or "" for p in client.projects.list(page_size=100))
        raise LabelStudioError(f"no project titled {title!r} (known: {known}); push first")
    return project_id


def export_tasks(client: LabelStudio, project_id: int) -> list[dict]:
    """Every task of the project (annotated or not) as Label Studio's JSON export."""
    return client.projects.exports.as_json(project_id)


# ---------------------------------------------------------------- push


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
    """The rule pre-annotator (:func:`govreport_ner.rules.tag_text`) and its model version."""
    return rules.tag_text, rules.MODEL_VERSION


def load_checkpoint_predictor(path: Path | str) -> tuple[Predictor, str]:
    """A trained model's ``predict_spans`` via ``govreport_ner.inference.load_predictor(path)``.

    The model version is the predictor's ``model_version`` attribute if it has one, else
    ``checkpoint:<folder name>``.
    """
    if not Path(path).exists():
        raise LabelStudioError(f"checkpoint {path} does not exist (use --checkpoint rules for rule pre-annotations)")
    try:
        inference = importlib.import_module("govreport_ner.inference")
    except ImportError as err:
        raise LabelStudioError(
            f"model pre-annotations from {path} need govreport_ner.inference.load_predictor, which cannot be "
            f"imported ({err}); use --checkpoint rules, or install what govreport_ner.inference needs"
        ) from err
    load = getattr(inference, "load_predictor", None)
    if load is None:
        raise LabelStudioError("govreport_ner.inference has no load_predictor(path); cannot load a checkpoint")
    predictor = load(path)
    if not callable(getattr(predictor, "predict_spans", None)):
        raise LabelStudioError(f"load_predictor({path!r}) returned {type(predictor).__name__} without predict_spans")
    return predictor.predict_spans, str(getattr(predictor, "model_version", None) or f"checkpoint:{Path(path).name}")


def resolve_predictor(checkpoint: Any = "rules", model_version: str | None = None) -> tuple[Predictor, str]:
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


def checked_spans(text: str, spans: Iterable[Span], doc_id: str = "") -> list[Span]:
    """Predicted spans with their text read from ``text``; an error for unknown labels or bad offsets."""
    out = []
    for s in spans:
        if s.label not in LABELS or not 0 <= s.start < s.end <= len(text):
            raise ValueError(f"{doc_id}: predictor returned an invalid span {s.start}-{s.end} {s.label!r}")
        out.append(s if s.text == text[s.start : s.end] else span_from_text(text, s.start, s.end, s.label, s.score))
    return out


def build_tasks(
    inputs: Path | str,
    per: str = "document",
    predict_spans: Predictor | None = None,
    model_version: str = rules.MODEL_VERSION,
    metadata: Mapping[str, SeedMeta] | None = None,
) -> tuple[list[dict], list[ReportReadError]]:
    """Tasks with one prediction each for every report of ``inputs``, and the reports that failed.

    ``metadata`` maps file names to :class:`SeedMeta` (doc id and region), as
    :func:`govreport_ner.pipeline.metadata_by_file` returns; files not in it keep their stem as id.
    """
    predict_spans = predict_spans or rules.tag_text
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


def existing_tasks(client: LabelStudio, project_id: int) -> list[ExistingTask]:
    """The project's tasks with their keys, texts and prediction model versions."""
    out = []
    for task in client.tasks.list(project=project_id, fields="all", page_size=100):
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
    title: str = DEFAULT_TITLE,
    per: str = "document",
    checkpoint: Any = "rules",
    model_version: str | None = None,
    label_config: Path | str = DEFAULT_LABEL_CONFIG,
    metadata: Mapping[str, SeedMeta] | None = None,
) -> PushResult:
    """Create/find the project and import the reports of ``inputs`` as tasks with predictions.

    Idempotent: tasks are keyed on ``(data.doc_id, data.offset)``; a second push imports
    nothing, except predictions of a new ``model_version`` for tasks that lack them. Any
    conflict (see :func:`plan_push`) aborts before anything is imported. The project's
    model version is set to this push's, so the labeling UI shows its predictions.
    """
    predict, version = resolve_predictor(checkpoint, model_version)
    tasks, failed = build_tasks(inputs, per, predict, version, metadata)
    project_id, what = ensure_project(client, title, Path(label_config).read_text(encoding="utf-8"))
    plan = plan_push(tasks, existing_tasks(client, project_id), version)
    if plan.conflicts:
        raise PushConflict(plan.conflicts)
    for i in range(0, len(plan.to_import), IMPORT_BATCH):
        client.projects.import_tasks(project_id, request=plan.to_import[i : i + IMPORT_BATCH], return_task_ids=True)
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


# ---------------------------------------------------------------- pull


PULL_RE = re.compile(r"^labelstudio-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")
HISTORY_DIR = "history"  # earlier pulls: kept, but out of ``read_export(folder)``'s ``*.json``


def pull_files(folder: Path | str) -> list[Path]:
    """The pull files of a folder and its ``history/``, oldest first (by the UTC timestamp in their names)."""
    folder = Path(folder)
    found = [
        (m.group(1), int(m.group(2) or 0), p)
        for d in (folder, folder / HISTORY_DIR)
        if d.is_dir()
        for p in d.iterdir()
        if (m := PULL_RE.match(p.name))
    ]
    return [p for *_, p in sorted(found)]


def archive_pulls(folder: Path | str, keep: Path) -> list[Path]:
    """Move the pull files of ``folder`` other than ``keep`` into ``folder/history/`` (none is overwritten).

    Each pull is a full snapshot and ``read_export`` concatenates every ``*.json`` of a folder,
    so only the latest may stay at the top for ``data.gold=<folder>`` to count each task once.
    """
    folder = Path(folder)
    moved = []
    for path in sorted(folder.glob("labelstudio-*.json")):
        if path == keep or not PULL_RE.match(path.name):
            continue
        target = folder / HISTORY_DIR / path.name
        if target.exists():
            raise LabelStudioError(f"cannot archive {path}: {target} exists; move one of them by hand")
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        moved.append(target)
    return moved


def new_pull_path(folder: Path | str, now: datetime | None = None) -> Path:
    """``folder/labelstudio-<UTC timestamp>.json``, with ``-1``, ``-2``... if that name is taken."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(folder)
    path, n = folder / f"labelstudio-{stamp}.json", 0
    while path.exists() or (folder / HISTORY_DIR / path.name).exists():
        n += 1
        path = folder / f"labelstudio-{stamp}-{n}.json"
    return path


def write_new_file(path: Path, tasks: Sequence[dict]) -> Path:
    """Write JSON to a path that must not exist yet (exclusive create: never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        json.dump(list(tasks), handle, ensure_ascii=False, indent=1)
    return path


Entity = tuple[int, int, str, str]  # start, end, label, text (task-local offsets)


@dataclass(frozen=True)
class TaskState:
    """One annotated task as a pull sees it: its annotations and the entities of the chosen one."""

    key: TaskKey
    region: str
    annotations: Mapping[str, str]  # live annotation id -> fingerprint (updated_at + result)
    entities: frozenset[Entity]


def _entities(annotation: Mapping[str, Any]) -> frozenset[Entity]:
    out = set()
    for item in annotation.get("result") or []:
        value = item.get("value") or {}
        if item.get("type") == "labels" and value.get("labels"):
            out.add((int(value["start"]), int(value["end"]), str(value["labels"][0]), str(value.get("text", ""))))
    return frozenset(out)


def snapshot(export: Sequence[Mapping[str, Any]]) -> dict[TaskKey, TaskState]:
    """The annotated tasks of an export by key (tasks without a live annotation are left out)."""
    states = {}
    for task in export:
        data = task.get("data") or {}
        chosen = choose_annotation(task.get("annotations") or [])
        if chosen is None or "doc_id" not in data:
            continue
        live = {
            str(a.get("id")): json.dumps([a.get("updated_at"), a.get("result")], sort_keys=True, ensure_ascii=False)
            for a in task.get("annotations") or []
            if not a.get("was_cancelled")
        }
        key = task_key(data)
        states[key] = TaskState(key, str(data.get("region", "")), live, _entities(chosen))
    return states


@dataclass
class PullDiff:
    """What changed between two pulls: tasks, annotations and entities added, removed, changed."""

    previous: str | None
    tasks: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    annotations: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})
    entities: dict[str, list[str]] = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})

    @property
    def unchanged(self) -> bool:
        return not any(v for part in (self.tasks, self.annotations, self.entities) for v in part.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Numbers only, e.g. ``{"entities": {"added": 3, "removed": 0, "changed": 1}, ...}``."""
        return {
            name: {k: len(v) for k, v in part.items()}
            for name, part in (("tasks", self.tasks), ("annotations", self.annotations), ("entities", self.entities))
        }

    def summary(self, details: int = 20) -> str:
        """Counts per kind, then up to ``details`` entity changes."""
        if self.previous is None:
            return f"first pull: {len(self.tasks['added'])} annotated tasks, {len(self.entities['added'])} entities"
        if self.unchanged:
            return f"since {self.previous}: no changes"
        lines = [f"since {self.previous}:"]
        for name, c in self.counts().items():
            lines.append(f"  {name:<12} +{c['added']} added, -{c['removed']} removed, ~{c['changed']} changed")
        changes = [f"    + {e}" for e in self.entities["added"]]
        changes += [f"    - {e}" for e in self.entities["removed"]]
        changes += [f"    ~ {e}" for e in self.entities["changed"]]
        lines += changes[:details]
        if len(changes) > details:
            lines.append(f"    ... {len(changes) - details} more")
        return "\n".join(lines)


def diff_pulls(
    old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]], previous: str | None = None
) -> PullDiff:
    """Compare two exports (pure). Tasks: annotated tasks by key; changed = other entities.

    Annotations: live annotation ids; changed = same id, new ``updated_at`` or result.
    Entities: ``(task, start, end, label)``; changed = same task and offsets, another label.
    """
    diff = PullDiff(previous if old is not None else None)
    a, b = snapshot(old or []), snapshot(new)
    for key in sorted(b.keys() - a.keys()):
        diff.tasks["added"].append(f"{key[0]}@{key[1]}")
    for key in sorted(a.keys() - b.keys()):
        diff.tasks["removed"].append(f"{key[0]}@{key[1]}")
    for key in sorted(a.keys() & b.keys()):
        if a[key].entities != b[key].entities:
            diff.tasks["changed"].append(f"{key[0]}@{key[1]}")
    old_ann = {aid: (key, fp) for key, s in a.items() for aid, fp in s.annotations.items()}
    new_ann = {aid: (key, fp) for key, s in b.items() for aid, fp in s.annotations.items()}
    diff.annotations["added"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, _) in new_ann.items() if aid not in old_ann
    )
    diff.annotations["removed"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, _) in old_ann.items() if aid not in new_ann
    )
    diff.annotations["changed"] = sorted(
        f"{aid} ({k[0]}@{k[1]})" for aid, (k, fp) in new_ann.items() if aid in old_ann and old_ann[aid][1] != fp
    )
    for key in sorted(a.keys() | b.keys()):
        before = a[key].entities if key in a else frozenset()
        after = b[key].entities if key in b else frozenset()
        old_at = {(s, e): (label, text) for s, e, label, text in before}
        new_at = {(s, e): (label, text) for s, e, label, text in after}
        for (s, e), (label, text) in sorted(new_at.items()):
            if (s, e) not in old_at:
                diff.entities["added"].append(f"{key[0]}@{key[1]} {label} {s}-{e} {text!r}")
            elif old_at[(s, e)][0] != label:
                diff.entities["changed"].append(f"{key[0]}@{key[1]} {s}-{e} {text!r}: {old_at[(s, e)][0]} -> {label}")
        for (s, e), (label, text) in sorted(old_at.items()):
            if (s, e) not in new_at:
                diff.entities["removed"].append(f"{key[0]}@{key[1]} {label} {s}-{e} {text!r}")
    return diff


@dataclass
class PullResult:
    """What a pull wrote and found."""

    path: Path
    tasks: int  # annotated tasks written
    entities: int
    report: ExportReport
    diff: PullDiff
    archived: list[Path] = field(default_factory=list)

    def summary(self, details: int = 10) -> str:
        """Where the gold went, the reader's report (up to ``details`` skipped tasks listed) and the diff."""
        skipped = [f"  SKIP {p}" for p in self.report.skipped[:details]]
        if len(self.report.skipped) > details:
            skipped.append(f"  ... {len(self.report.skipped) - details} more")
        return "\n".join(
            part
            for part in (
                f"wrote {self.tasks} annotated task(s), {self.entities} entities to {self.path}",
                f"{len(self.report.skipped)} task(s) without annotation skipped" + (":" if skipped else ""),
                *skipped,
                *(f"  REPAIR {p}" for p in self.report.repairs),
                *(f"earlier pull moved to {p}" for p in self.archived),
                self.diff.summary(),
            )
            if part
        )


def pull(client: LabelStudio, title: str = DEFAULT_TITLE, folder: Path | str = DEFAULT_PULLS_DIR) -> PullResult:
    """Export the project, validate it and write its annotated tasks to a new pull file.

    The file (``folder/labelstudio-<UTC timestamp>.json``, never an existing one) holds the
    annotated tasks in Label Studio's export shape, ready for ``read_export``/``build_dataset``;
    tasks without annotation are skipped and reported. Earlier pulls move to
    ``folder/history/`` (see :func:`archive_pulls`), so ``folder`` holds the latest snapshot
    only. The diff compares with the latest earlier pull. An export with errors is written to
    ``folder/invalid/`` instead and :class:`ExportValidationError` is raised.
    """
    project_id = require_project(client, title)
    export = export_tasks(client, project_id)
    folder = Path(folder)
    try:
        annotated, report = parse_export(export, skip_unannotated=True)
    except ExportValidationError as err:
        kept = write_new_file(new_pull_path(folder / "invalid"), export)
        err.args = (f"{err.args[0]}\n(the raw export is in {kept}; fix the annotations in Label Studio)",)
        raise
    previous = pull_files(folder)
    old = json.loads(previous[-1].read_text(encoding="utf-8")) if previous else None
    ids = {t.task_id for t in annotated}
    keep = [t for t in export if str(t.get("id")) in ids]
    path = write_new_file(new_pull_path(folder), keep)
    diff = diff_pulls(old, keep, previous[-1].name if previous else None)
    archived = archive_pulls(folder, path)
    return PullResult(path, len(keep), sum(len(t.spans) for t in annotated), report, diff, archived)


# ---------------------------------------------------------------- status


def status_table(export: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per region (and ``total``): tasks, annotated tasks, entities and entities per label."""
    rows: dict[str, Counter] = defaultdict(Counter)
    for task in export:
        data = task.get("data") or {}
        row = rows[str(data.get("region", "")) or "-"]
        row["tasks"] += 1
        chosen = choose_annotation(task.get("annotations") or [])
        if chosen is None:
            continue
        row["annotated"] += 1
        for _start, _end, label, _text in _entities(chosen):
            row["entities"] += 1
            row[label] += 1
    total: Counter = Counter()
    for row in rows.values():
        total.update(row)
    columns = ("tasks", "annotated", "entities", *LABELS)
    table = {region: {c: rows[region][c] for c in columns} for region in sorted(rows)}
    table["total"] = {c: total[c] for c in columns}
    return table


def format_status(table: Mapping[str, Mapping[str, int]]) -> str:
    """The status table as Markdown."""
    columns = ["tasks", "annotated", "entities", *LABELS]
    lines = ["| region | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for region, row in table.items():
        name = "**total**" if region == "total" else region
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def status(client: LabelStudio, title: str = DEFAULT_TITLE) -> dict[str, dict[str, int]]:
    """The status table of the project titled ``title`` (from a fresh JSON export)."""
    return status_table(export_tasks(client, require_project(client, title)))


__all__ = [
    "ExistingTask",
    "LabelStudioError",
    "LabelStudioNotInstalled",
    "MissingEnvironment",
    "PullDiff",
    "PullResult",
    "PushConflict",
    "PushPlan",
    "PushResult",
    "Server",
    "ServerStartError",
    "build_tasks",
    "check_auth",
    "connect",
    "diff_pulls",
    "ensure_project",
    "export_tasks",
    "format_status",
    "archive_pulls",
    "free_port",
    "label_studio_installed",
    "new_pull_path",
    "plan_push",
    "pull",
    "pull_files",
    "push",
    "resolve_predictor",
    "snapshot",
    "start_server",
    "status",
    "status_table",
    "task_key",
]
