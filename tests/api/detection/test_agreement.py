"""Agreement figures from counts (failure is the positive class)."""

from __future__ import annotations

import pytest
from phosphobs.api.detection.agreement import agreement_json, cohen_kappa
from phosphobs.storage.detection_records import AgreementCounts


def test_figures_from_a_confusion_matrix() -> None:
    # detector failure & human failure 20, detector failure & human success 5, missed 10, both success 65
    figures = agreement_json(AgreementCounts("judge", 110, 25, 2, 65, 20, 5, 10))
    assert figures["human_flagged"] == 100
    assert figures["agreement"] == pytest.approx(0.85)
    assert figures["precision"] == pytest.approx(0.8)
    assert figures["recall"] == pytest.approx(20 / 30)
    # p_o = 0.85, p_e = 0.25*0.30 + 0.75*0.70 = 0.6
    assert figures["cohen_kappa"] == pytest.approx((0.85 - 0.6) / 0.4)
    assert figures["counts"] == {"true_failure": 20, "false_failure": 5, "missed_failure": 10, "true_success": 65}


def test_undefined_figures_are_null_not_zero() -> None:
    figures = agreement_json(AgreementCounts("rules", 3, 3, 0, 0, 0, 0, 0))
    assert figures["agreement"] is None and figures["precision"] is None and figures["cohen_kappa"] is None
    assert cohen_kappa(0, 0, 0, 4) is None  # everyone always said success: chance agreement is total
    assert cohen_kappa(2, 0, 0, 2) == 1.0
