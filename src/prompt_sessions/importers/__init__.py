"""Importers from other tools, one module per format (DESIGN section 16).

Each module holds one importer class; ``default_plugins.importers`` registers them through the
same ``register_importers`` hook a plugin uses. ``common`` holds what they share: reading JSON
Lines one line at a time, times, names and the source id every import records.
"""
