"""``session_title`` for the llm plugin: a short name for an auto-named session, made by the
model named in ``[responders.llm] title_model`` after the session's first reply (DESIGN section
14). Without ``title_model`` the plugin does not answer and the first-message name stays."""

from __future__ import annotations

import threading
from typing import Any

from prompt_sessions.models import Session

EXCERPT_CHARS = 2000  # of each message: enough to say what the talk is about
# A title is asked for while the reply is being stored: a silent model must not hold the reply
# (nor `send`) for the HTTP client's ten minutes. ``[responders.llm] timeout`` shortens it.
TITLE_TIMEOUT = 30.0
INSTRUCTION = (
    "Give a short title, at most six words, for the conversation below. Answer with the title "
    "only: no quotes, no full stop."
)


def title_model(config: dict[str, Any]) -> str | None:
    """The ``[responders.llm] title_model`` of config.toml data, or None."""
    table = (config.get("responders") or {}).get("llm") or {}
    model = table.get("title_model") if isinstance(table, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else None


def title_timeout(config: dict[str, Any]) -> float:
    """Seconds to wait for a title: :data:`TITLE_TIMEOUT`, or ``[responders.llm] timeout``
    when that is shorter."""
    table = (config.get("responders") or {}).get("llm") or {}
    given = table.get("timeout") if isinstance(table, dict) else None
    if isinstance(given, int | float) and not isinstance(given, bool) and given > 0:
        return min(float(given), TITLE_TIMEOUT)
    return TITLE_TIMEOUT


def make_title(session: Session, model_id: str, timeout: float = TITLE_TIMEOUT) -> str | None:
    """Ask ``model_id`` for a title of ``session`` (its first user message and first reply),
    waiting at most ``timeout`` seconds.

    Returns None when the model gives no text; errors of llm or the provider propagate, and a
    model silent for ``timeout`` raises TimeoutError (the plugin host reports either as a
    warning and the name stays).
    """

    first_user = next((m.content for m in session.history if m.role == "user"), "")
    first_reply = next((m.content for m in session.history if m.role == "assistant"), "")
    prompt = (
        f"{INSTRUCTION}\n\nUser: {first_user[:EXCERPT_CHARS]}\n\n"
        f"Assistant: {first_reply[:EXCERPT_CHARS]}"
    )
    text = _ask(model_id, prompt, timeout)
    title = text.strip().strip("\"'“”").rstrip(".").strip()
    return title or None


def _ask(model_id: str, prompt: str, timeout: float) -> str:
    """The model's answer to ``prompt``, asked in a worker thread given up on after ``timeout``
    seconds (a blocking HTTP read cannot be interrupted; the thread ends with it)."""
    from .responder import sync_model

    answer: dict[str, Any] = {}

    def work() -> None:
        try:
            answer["text"] = sync_model(model_id).prompt(prompt).text()
        except Exception as exc:  # raised in the caller's thread below
            answer["error"] = exc

    worker = threading.Thread(target=work, name="llm title", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"title model '{model_id}' gave no title within {timeout:g} s")
    if "error" in answer:
        raise answer["error"]
    return str(answer.get("text") or "")


def session_title(session: Session, manager: Any) -> str | None:
    """The hook body: a title when ``title_model`` is configured, else None."""
    config = getattr(manager, "config", {}) or {}
    model_id = title_model(config)
    if model_id is None:
        return None
    return make_title(session, model_id, title_timeout(config))
