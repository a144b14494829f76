"""``session_title`` for the llm plugin: a short name for an auto-named session, made by the
model named in ``[responders.llm] title_model`` after the session's first reply (DESIGN section
14). Without ``title_model`` the plugin does not answer and the first-message name stays."""

from __future__ import annotations

from typing import Any

from prompt_sessions.models import Session

EXCERPT_CHARS = 2000  # of each message: enough to say what the talk is about
INSTRUCTION = (
    "Give a short title, at most six words, for the conversation below. Answer with the title "
    "only: no quotes, no full stop."
)


def title_model(config: dict[str, Any]) -> str | None:
    """The ``[responders.llm] title_model`` of config.toml data, or None."""
    table = (config.get("responders") or {}).get("llm") or {}
    model = table.get("title_model") if isinstance(table, dict) else None
    return model.strip() if isinstance(model, str) and model.strip() else None


def make_title(session: Session, model_id: str) -> str | None:
    """Ask ``model_id`` for a title of ``session`` (its first user message and first reply).

    Returns None when the model gives no text; errors of llm or the provider propagate (the
    plugin host reports them as a warning and the name stays).
    """
    from .responder import sync_model

    first_user = next((m.content for m in session.history if m.role == "user"), "")
    first_reply = next((m.content for m in session.history if m.role == "assistant"), "")
    prompt = (
        f"{INSTRUCTION}\n\nUser: {first_user[:EXCERPT_CHARS]}\n\n"
        f"Assistant: {first_reply[:EXCERPT_CHARS]}"
    )
    text = sync_model(model_id).prompt(prompt).text()
    title = text.strip().strip("\"'“”").rstrip(".").strip()
    return title or None


def session_title(session: Session, manager: Any) -> str | None:
    """The hook body: a title when ``title_model`` is configured, else None."""
    model_id = title_model(getattr(manager, "config", {}) or {})
    if model_id is None:
        return None
    return make_title(session, model_id)
