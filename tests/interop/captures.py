"""The captures: every export request one library really sent in one scenario, and that scenario's truth.

Layout of `captures/<library>/`: `NNNN_<signal>.bin` the request body exactly as sent (maybe gzip),
`NNNN_<signal>.meta.json` its content type, encoding and user agent, `NNNN_<signal>.decoded.json` a readable
OTLP/JSON rendering (hex ids) for people, `truth.json` the fake provider's log with the session and user the app
set, `versions.json` what the library's environment held.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.interop.tap import Recorded
from tests.interop.truth import Truth

CAPTURES_DIR = Path(__file__).parent / "captures"


@dataclass(frozen=True)
class Request:
    signal: str
    body: bytes
    content_type: str
    content_encoding: str | None


@dataclass(frozen=True)
class Capture:
    name: str
    truth: Truth
    requests: list[Request]


def readable(signal: str, body: bytes, content_type: str, encoding: str | None) -> str:
    raw = gzip.decompress(body) if encoding == "gzip" else body
    if "json" in content_type:
        return json.dumps(json.loads(raw), indent=1)
    from tests.collector.fixtures import Payload
    from tests.collector.otlp_json import to_otlp_json

    return json.dumps(json.loads(to_otlp_json(Payload(signal, raw, content_type, None).message())), indent=1)


def write_capture(name: str, truth: Truth, recorded: list[Recorded], versions: dict[str, str]) -> Path:
    folder = CAPTURES_DIR / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for item in recorded:
        stem = f"{item.seq:04d}_{item.signal}"
        (folder / f"{stem}.bin").write_bytes(item.body)
        (folder / f"{stem}.meta.json").write_text(json.dumps({
            "signal": item.signal, "content_type": item.content_type, "content_encoding": item.content_encoding,
            "user_agent": item.user_agent, "status": item.status}, indent=1) + "\n")
        (folder / f"{stem}.decoded.json").write_text(
            readable(item.signal, item.body, item.content_type, item.content_encoding) + "\n")
    (folder / "truth.json").write_text(json.dumps(truth.to_json(), indent=1) + "\n")
    (folder / "versions.json").write_text(json.dumps(versions, indent=1, sort_keys=True) + "\n")
    return folder


def capture_names() -> list[str]:
    if not CAPTURES_DIR.is_dir():
        return []
    return sorted(p.name for p in CAPTURES_DIR.iterdir() if (p / "truth.json").is_file())


def load_capture(name: str) -> Capture:
    folder = CAPTURES_DIR / name
    requests = []
    for body in sorted(folder.glob("*.bin")):
        meta = json.loads(body.with_suffix(".meta.json").read_text())
        requests.append(Request(meta["signal"], body.read_bytes(), meta["content_type"], meta["content_encoding"]))
    return Capture(name, Truth.from_json(json.loads((folder / "truth.json").read_text())), requests)
