"""Organising many sessions (DESIGN section 14): the trash, pins and tags, names, usage,
backups. Each module holds the rules of one feature over a :class:`SessionManager`; the
manager's own methods stay thin."""
