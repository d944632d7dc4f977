"""Reviewer consistency on the double-review sample, as JSON and CSV."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.audit import calibration
from services.audit.deps import Options, Staff
from services.audit.problems import AUTH, problems
from services.audit.second_review import sample
from shared.web.deps import Session

router = APIRouter(tags=["calibration"])

APPEALS = ("appeal_overturn_rate: of the criteria appealed and decided in the group, the share the independent "
           "appeal decision overturned; null where nothing was appealed")


class IntervalRead(BaseModel):
    low: float
    high: float


def _means(column: str) -> str:
    return calibration.COLUMNS[column]


class RowRead(BaseModel):
    scope: str = Field(description="`overall`, `area`, `criterion` or `auditor`")
    key: str = Field(description=_means("key"))
    cases: int = Field(description=_means("cases"))
    pairs: int = Field(description=_means("pairs"))
    as_first: int = Field(default=0, description=_means("as_first") + "; 0 for other groups")
    as_second: int = Field(default=0, description=_means("as_second") + "; 0 for other groups")
    agreement: float | None = Field(description=_means("agreement"))
    kappa: float | None = Field(description=_means("kappa"))
    kappa_ci: IntervalRead | None = Field(description="95% bootstrap interval (cases resampled); null when not given "
                                                      "(fewer than two cases, or too many degenerate resamples)")
    kappa_degenerate: int = Field(default=0, description=_means("kappa_degenerate"))
    alpha: float | None = Field(description=_means("alpha"))
    alpha_ci: IntervalRead | None
    alpha_degenerate: int = Field(default=0, description=_means("alpha_degenerate"))
    decided: int = Field(description=_means("decided"))
    changed: int = Field(description=_means("changed"))
    change_rate: float | None
    appeals: int = Field(default=0, description=_means("appeals"))
    appeal_overturn_rate: float | None = Field(default=None, description=_means("appeal_overturn_rate"))
    flagged: bool = Field(description=_means("flagged"))


class CalibrationRead(BaseModel):
    threshold: float = Field(description="the programme's agreement threshold (kappa)")
    resamples: int
    seed: int
    cases: int = Field(description="double-reviewed cases whose two reviews were disclosed (the sample)")
    appeals: str = APPEALS
    columns: dict[str, str] = Field(default_factory=lambda: dict(calibration.COLUMNS),
                                    description="what each column of the CSV export (and each row field) means")
    rows: list[RowRead]


def read(report: calibration.Report) -> CalibrationRead:
    return CalibrationRead(threshold=report.threshold, resamples=report.resamples, seed=report.seed,
                           cases=report.cases, rows=[RowRead.model_validate(r, from_attributes=True)
                                                     for r in report.rows])


def to_csv(report: calibration.Report) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(calibration.csv_rows(report))
    return out.getvalue()


def columns_csv() -> str:
    out = io.StringIO()
    csv.writer(out).writerows(calibration.column_rows())
    return out.getvalue()


@router.get("/calibration", response_model=CalibrationRead, summary="Reviewer consistency (calibration)",
            description="On the double-review sample: per criterion, area and auditor, the observed agreement, "
                        "Cohen's kappa and Krippendorff's alpha with 95% bootstrap intervals (cases resampled, "
                        "fixed seed), and on completed cases the decision-change rate. Groups whose kappa is below "
                        "the programme's threshold are `flagged`; on decided appeals, the overturn rate.",
            responses=problems(*AUTH))
async def calibration_json(_: Staff, session: Session, options: Options) -> CalibrationRead:
    return read(await sample.report(session, options))


@router.get("/calibration-columns.csv", summary="What each column of the calibration CSV means",
            response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "column,meaning"}, **problems(*AUTH)})
async def calibration_columns_csv(_: Staff) -> Response:
    return Response(columns_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="calibration-columns.csv"'})


@router.get("/calibration.csv", summary="Reviewer consistency (CSV)", response_class=Response,
            description="One row per group; `calibration-columns.csv` (and `columns` in the JSON) says what each "
                        "column means.",
            responses={200: {"content": {"text/csv": {}}, "description": "one row per group"}, **problems(*AUTH)})
async def calibration_csv(_: Staff, session: Session, options: Options) -> Response:
    return Response(to_csv(await sample.report(session, options)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="calibration.csv"'})
