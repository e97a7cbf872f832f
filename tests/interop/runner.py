"""Runs one library's scenario for real: its environment, the fake provider, the tap, the driver process."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.interop.environments import installed_versions, node_env, python_env
from tests.interop.fake_llm import FakeLLM
from tests.interop.libraries import Library
from tests.interop.tap import OtlpTap, Recorded
from tests.interop.truth import Truth

DRIVERS_DIR = Path(__file__).parent / "drivers"
DRIVER_TIMEOUT_S = 300
# Nothing may phone home: each library's own telemetry and network look-ups are switched off.
QUIET = {"TRACELOOP_TELEMETRY": "false", "DO_NOT_TRACK": "1", "LOGFIRE_SEND_TO_LOGFIRE": "false",
         "LITELLM_LOCAL_MODEL_COST_MAP": "True",
         "LANGCHAIN_TRACING_V2": "false", "NO_PROXY": "127.0.0.1,localhost"}


class DriverFailed(RuntimeError):
    """The library's app did not run through (never an expected outcome: not covered by an xfail)."""


@dataclass(frozen=True)
class Outcome:
    truth: Truth
    recorded: list[Recorded]
    versions: dict[str, str]
    output: str


def prepare(library: Library) -> Path:
    """The library's cached environment (built on first use): a python executable or a node folder."""
    if library.runtime == "node":
        return node_env(library.environment, library.pins)
    return python_env(library.environment, library.install_args(), library.cache_pins())


def identities(library: Library) -> tuple[str, str]:
    return f"sess-interop-{library.name}", f"user-{library.name}@example.test"


def run_scenario(library: Library, server_url: str, api_key: str) -> Outcome:
    env_path = prepare(library)
    session_id, user_id = identities(library)
    with FakeLLM() as llm, OtlpTap(server_url) as tap:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("OTEL_", "PHOSPHOBS_", "TRACELOOP_", "LOGFIRE_", "OPENAI_", "ANTHROPIC_",
                                        "GOOGLE_", "GEMINI_"))}
        env = {**clean, **QUIET, **library.env,
               "INTEROP_OPENAI_URL": f"{llm.url}/v1", "INTEROP_ANTHROPIC_URL": llm.url,
               "INTEROP_GEMINI_URL": llm.url,
               "INTEROP_SESSION_ID": session_id, "INTEROP_USER_ID": user_id,
               "INTEROP_AUTHORIZATION": f"Bearer {api_key}",
               "OTEL_EXPORTER_OTLP_ENDPOINT": tap.url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
               "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{api_key}",
               "OPENAI_API_KEY": "sk-interop", "ANTHROPIC_API_KEY": "sk-ant-interop",
               "PYTHONPATH": str(DRIVERS_DIR), "PYTHONUNBUFFERED": "1"}
        if library.runtime == "node":
            # ESM resolves packages from the script's own folder: run a copy beside node_modules (and the
            # shared scenario module it may import).
            for script in (library.driver, "common.mjs"):
                (env_path / script).write_text((DRIVERS_DIR / script).read_text())
            cmd = ["node", str(env_path / library.driver)]
            cwd = env_path
        else:
            cmd = [str(env_path), str(DRIVERS_DIR / library.driver)]
            cwd = DRIVERS_DIR
        result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            raise DriverFailed(f"{library.name} driver failed ({result.returncode}):\n{output[-6000:]}")
        truth = Truth(library.name, session_id, user_id, llm.log(), library.gaps)
        recorded = list(tap.recorded)
    rejected = [r for r in recorded if r.status >= 300]
    if rejected:
        raise DriverFailed(f"{library.name}: the server refused exports {[(r.seq, r.status) for r in rejected]}")
    return Outcome(truth, recorded, installed_versions(library.runtime, env_path), output)
