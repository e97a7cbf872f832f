"""First start: migrate, and on an empty database create project `default` with a first API key."""

from __future__ import annotations

from phosphobs.api.keys import display_prefix, hash_key, new_key
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import ApiKey, Project, ProjectsAndKeys, Storage


def create_key(storage: ProjectsAndKeys, project: Project, name: str) -> tuple[str, ApiKey]:
    """Returns the full key (the only time it exists outside the caller) and its stored record."""
    key = new_key()
    record = storage.create_key(project.id, name, display_prefix(key), hash_key(key), now_us())
    return key, record


def bootstrap(storage: Storage) -> tuple[Project, str] | None:
    """Returns (project, full key) when it just created the default project, else None."""
    storage.migrate()
    if storage.list_projects():
        return None
    project = storage.create_project("default", "free", now_us())
    key, _ = create_key(storage, project, "default")
    return project, key
