"""The phosphobs server: app wiring, query routes, keys, CLI."""

from importlib.util import find_spec

# Checked without importing: the SQLite writer process and the CLI load this package too, and
# importing FastAPI there costs ~0.5 s and ~25 MB for nothing.
if find_spec("fastapi") is None:  # pragma: no cover - exercised only without the extra
    raise ImportError("phosphobs.api needs the server dependencies: pip install 'phosphobs[server]'")
