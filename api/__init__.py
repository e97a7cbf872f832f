"""The phosphobs server: app wiring, query routes, keys, CLI."""

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "phosphobs.api needs the server dependencies: pip install 'phosphobs[server]'"
    ) from exc
