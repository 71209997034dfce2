"""Input data of the reports (reports.data): mistakes are refused when the data is made."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from reports import (
    CampaignProblemList,
    EnforcementFigures,
    FindingRow,
    InspectionVisit,
    PhotoRef,
    samples,
)

FINDING = {
    "item_code": "RO-01",
    "item_text": "是否取得证照",
    "description": "未取得证照",
    "clause": "二（三）",
    "basis": "……",
    "severity": "key",
    "requirement": "限期办理",
    "deadline": date(2025, 6, 12),
    "responsible_unit": "市商务局",
    "status": "open",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "重点"}, "severity"),
        ({"status": "closed "}, "status"),
        ({"deadline": datetime(2025, 6, 12)}, "deadline"),
        ({"photos": ["/tmp/a.jpg"]}, "PhotoRef"),
    ],
)
def test_finding_refuses_bad_values(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FindingRow(**(FINDING | change))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        InspectionVisit(started_at=datetime(2025, 5, 12, 9, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        PhotoRef(path=Path("a.jpg"), taken_at=datetime(2025, 5, 12, 9, 30))
    data = samples.campaign_problem_list([], findings=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CampaignProblemList(
            campaign=data.campaign, districts=[], scope="全市", generated_at=datetime(2025, 5, 12)
        )


def test_photo_path_may_be_given_as_a_string() -> None:
    assert PhotoRef(path="/srv/media/a.jpg").path == Path("/srv/media/a.jpg")  # type: ignore[arg-type]


def test_days_overdue_stop_once_settled() -> None:
    row = FindingRow(**FINDING)
    assert row.days_overdue(date(2025, 6, 20)) == 8
    assert row.days_overdue(date(2025, 6, 1)) == 0
    closed = FindingRow(**(FINDING | {"status": "closed"}))
    assert closed.days_overdue(date(2025, 6, 20)) == 0


def test_enforcement_counts_and_fines() -> None:
    figures = EnforcementFigures(order_rectify=3, fine_cases=2, fine_total_yuan=1500)
    assert figures.fine_total_yuan == Decimal(1500)
    assert figures.total_cases == 5
    with pytest.raises(ValueError):
        EnforcementFigures(ban=-1)
    with pytest.raises(ValueError):
        EnforcementFigures(fine_total_yuan=12.5)  # type: ignore[arg-type]
