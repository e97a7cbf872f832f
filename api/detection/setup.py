"""Building the detection worker from `Settings` (the judge only when the operator configured one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from phosphobs.api.detection.budget import Budget
from phosphobs.api.detection.judge import Judge, JudgeConfig
from phosphobs.api.detection.worker import DetectionWorker
from phosphobs.api.settings import Settings
from phosphobs.storage.protocol import DetectionStore, Storage


def judge_config(settings: Settings) -> JudgeConfig | None:
    if not settings.judge_base_url or not settings.judge_model:
        return None
    return JudgeConfig(settings.judge_base_url, settings.judge_model, settings.judge_api_key,
                       settings.judge_timeout_seconds, max(0, settings.judge_retries))


def build_worker(storage: Storage, settings: Settings,
                 ingest_busy: Callable[[], bool] = lambda: False) -> DetectionWorker | None:
    if not settings.detection:
        return None
    config = judge_config(settings)
    judge = Judge(config) if config is not None else None
    per_process = max(1, settings.judge_max_per_minute // max(1, settings.workers))
    return DetectionWorker(cast(DetectionStore, storage), judge=judge,
                           budget=Budget(per_process) if judge is not None else None,
                           settle_seconds=settings.detection_settle_seconds, ingest_busy=ingest_busy)
