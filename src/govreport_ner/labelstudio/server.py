"""A local Label Studio server process: environment, free port, start, health, stop.

The server is started with legacy tokens enabled and the admin's legacy token set to
``LABEL_STUDIO_USER_TOKEN``, so the commands know the token before the server exists.
Offline: Sentry, usage analytics and the PyPI version check are switched off, and only a
loopback address is ever bound."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from govreport_ner.labelstudio.client import (
    ENV_API_KEY,
    ENV_USER_TOKEN,
    ENV_USERNAME,
    LOOPBACK_HOSTS,
    MIN_TOKEN_CHARS,
    SERVER_ENV,
    ApiSettings,
    LabelStudioError,
    LabelStudioNotInstalled,
    MissingEnvironment,
    ServerStartError,
    check_auth,
    connect,
    health_ok,
)

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio


# Keep the server from phoning home (Sentry, telemetry, PyPI version check). The
# LABEL_STUDIO_ prefix wins over the bare names in Label Studio's settings lookup.
OFFLINE_ENV = {
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
}


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


def free_port(host: str) -> int:
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


@dataclass
class Server:
    """A running local Label Studio (started by :func:`start_server`); a context manager that stops it."""

    process: subprocess.Popen
    url: str
    port: int
    data_dir: Path
    log_path: Path
    api_key: str
    api: ApiSettings
    started_in: float = 0.0  # seconds from launch to a healthy, authenticated server

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's log."""
        return log_tail(self.log_path, lines)

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process.poll() is None

    def stop(self) -> int | None:
        """Stop the server (SIGTERM to its process group, SIGKILL after ``api.stop_timeout``); its exit code."""
        return stop_process(self.process, self.api.stop_timeout)

    def client(self) -> LabelStudio:
        """An SDK client for this server."""
        return connect(self.url, self.api_key, self.api)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_process(process: subprocess.Popen, timeout: float) -> int | None:
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
    api: ApiSettings,
    process: subprocess.Popen | None = None,
    log_path: Path | str | None = None,
) -> float:
    """Poll ``url/health`` every ``api.poll_interval`` seconds until it is OK; seconds waited.
    Raises :class:`ServerStartError` with the log tail."""
    start = time.monotonic()
    while True:
        if health_ok(url, api.health_timeout):
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
        time.sleep(api.poll_interval)


def start_server(
    data_dir: Path | str,
    port: int,
    host: str,
    timeout: float,
    api: ApiSettings,
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
    api_key = environment.get(ENV_API_KEY) or environment[ENV_USER_TOKEN]
    server = Server(process, url, port, data_dir, log_path, api_key, api)
    try:
        wait_for_health(url, timeout, api, process, log_path)
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
