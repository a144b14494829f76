"""Helpers for testing prompt-sessions and its plugins (a pytest plugin is registered via pytest11)."""
