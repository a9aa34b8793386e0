"""The Label Studio SDK client: settings (environment variables, defaults), errors, connecting,
checking the token, finding or creating the project, exporting its tasks.

Label Studio 1.23 authenticates the API with either a *personal access token* (a JWT
refresh token; the SDK exchanges it for short-lived access tokens) or a *legacy token*
(``Authorization: Token ...``), and legacy tokens are disabled by default.
:func:`govreport_ner.labelstudio.server.start_server` sets the admin's legacy token to
``LABEL_STUDIO_USER_TOKEN``, so the commands know the token before the server exists.
:func:`connect` accepts either kind: the SDK tells them apart (a JWT is a personal access
token), so an annotator may use the personal access token from *Account & Settings*
instead (``LABEL_STUDIO_API_KEY``). ``tests/test_labelstudio_integration.py`` runs it against
a real ``label-studio`` process.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SDK is imported lazily: the pure helpers work without it
    from label_studio_sdk import LabelStudio

# ---------------------------------------------------------------- settings

ENV_USERNAME = "LABEL_STUDIO_USERNAME"  # Label Studio's own: the initial (admin) user, an e-mail address
ENV_PASSWORD = "LABEL_STUDIO_PASSWORD"  # Label Studio's own: that user's password
ENV_USER_TOKEN = "LABEL_STUDIO_USER_TOKEN"  # Label Studio's own: that user's legacy API token
ENV_API_KEY = "LABEL_STUDIO_API_KEY"  # ours (the SDK's name): a personal access token or a legacy token
ENV_URL = "LABEL_STUDIO_URL"  # ours (the SDK's name): where the server is
SERVER_ENV = (ENV_USERNAME, ENV_PASSWORD, ENV_USER_TOKEN)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MIN_TOKEN_CHARS = 6  # Label Studio ignores a LABEL_STUDIO_USER_TOKEN of 5 characters or fewer


@dataclass(frozen=True)
class ApiSettings:
    """How the commands talk to a server: the ``api`` block of ``configs/labelstudio.yaml``."""

    health_timeout: float  # seconds one /health request may take
    page_size: int  # projects or tasks per page when listing them
    import_batch: int  # tasks per import request
    poll_interval: float  # seconds between /health polls while a server starts
    stop_timeout: float  # seconds a stopping server gets after SIGTERM before SIGKILL


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


# ---------------------------------------------------------------- client


def health_ok(url: str, timeout: float) -> bool:
    """True when ``url/health`` answers 200 with ``{"status": "UP"}``."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200 and json.loads(response.read() or b"{}").get("status") == "UP"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def connect(
    url: str,
    api_key: str | None,
    api: ApiSettings,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> LabelStudio:
    """An SDK client for ``url`` authenticated by ``api_key``.

    Without ``api_key``: ``LABEL_STUDIO_API_KEY``, else ``LABEL_STUDIO_USER_TOKEN`` (the legacy
    token :func:`start_server` sets up). A JWT (personal access token) is used as a refresh token,
    anything else as a legacy token. With ``check``, an unreachable server is a
    :class:`LabelStudioError` at once.
    """
    env = os.environ if env is None else env
    api_key = api_key or env.get(ENV_API_KEY) or env.get(ENV_USER_TOKEN)
    if not api_key:
        raise MissingEnvironment(
            [ENV_API_KEY, ENV_USER_TOKEN], f"no API token for {url} (a personal access token or the legacy token)"
        )
    if check and not health_ok(url, api.health_timeout):
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


def find_project(client: LabelStudio, title: str, api: ApiSettings) -> int | None:
    """The id of the project titled ``title`` (None if there is none; an error if several)."""
    ids = [p.id for p in client.projects.list(page_size=api.page_size) if p.title == title]
    if len(ids) > 1:
        raise LabelStudioError(f"{len(ids)} projects are titled {title!r} (ids {ids}); rename all but one")
    return ids[0] if ids else None


def ensure_project(client: LabelStudio, title: str, label_config: str, api: ApiSettings) -> tuple[int, str]:
    """The project titled ``title``, created with ``label_config`` if missing; ``(id, what happened)``.

    An existing project whose labeling config differs gets the new config (Label Studio
    refuses it if existing annotations use a label it drops).
    """
    project_id = find_project(client, title, api)
    if project_id is None:
        project = client.projects.create(title=title, label_config=label_config)
        return project.id, "created"
    if _normalize_xml(client.projects.get(project_id).label_config or "") != _normalize_xml(label_config):
        client.projects.update(project_id, label_config=label_config)
        return project_id, "updated labeling config"
    return project_id, "found"


def _normalize_xml(xml: str) -> str:
    return re.sub(r">\s+<", "><", xml.strip())


def require_project(client: LabelStudio, title: str, api: ApiSettings) -> int:
    """The id of the project titled ``title``; an error naming the known titles if it is missing."""
    project_id = find_project(client, title, api)
    if project_id is None:
        known = sorted(p.title or "" for p in client.projects.list(page_size=api.page_size))
        raise LabelStudioError(f"no project titled {title!r} (known: {known}); push first")
    return project_id


def export_tasks(client: LabelStudio, project_id: int) -> list[dict]:
    """Every task of the project (annotated or not) as Label Studio's JSON export."""
    return client.projects.exports.as_json(project_id)


# ---------------------------------------------------------------- push


# ---------------------------------------------------------------- pull


# ---------------------------------------------------------------- status
