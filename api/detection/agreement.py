"""Detector-vs-human agreement figures (failure is the positive class)."""

from __future__ import annotations

from typing import Any

from phosphobs.storage.detection_records import AgreementCounts


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def cohen_kappa(tp: int, fp: int, fn: int, tn: int) -> float | None:
    """Agreement beyond chance; None when undefined (no pairs, or chance agreement is already total)."""
    n = tp + fp + fn + tn
    if not n:
        return None
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def agreement_json(c: AgreementCounts) -> dict[str, Any]:
    tp, fp = c.both_failure, c.detector_failure_human_success
    fn, tn = c.detector_success_human_failure, c.both_success
    compared = tp + fp + fn + tn
    return {
        "detector": c.detector,
        "events_judged": c.judged,
        "failures_found": c.failures,
        "errors": c.errors,
        "success_rate": _ratio(c.judged - c.failures, c.judged),
        "human_flagged": compared,
        "agreement": _ratio(tp + tn, compared),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "cohen_kappa": cohen_kappa(tp, fp, fn, tn),
        "counts": {"true_failure": tp, "false_failure": fp, "missed_failure": fn, "true_success": tn},
    }
