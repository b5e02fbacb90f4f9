"""The performance board for a wall screen: SVG charts per service (flow, processing time against the standard,
standard compliance, satisfaction, today's queue), a table per agency, and a table of fees and business applicants
per service and agency; it reloads itself."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from satupintu.common.money import rupiah
from satupintu.mall import charts
from satupintu.mall.domain import SKM_GRADES
from satupintu.mall.i18n import Translator
from satupintu.mall.schemas import BoardRead, ServicePerformance
from satupintu.mall.web.rendering import page_context, render_page, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _short_name(name: str) -> str:
    """A service's name as a chart row shows it: whole when it fits, else its abbreviation, e.g. ``PBG``."""
    abbreviation = re.search(r"\(([^)]+)\)\s*$", name)
    return abbreviation.group(1) if abbreviation and len(name) > 28 else name


def _flow_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    bars = [
        charts.Bar(
            label=_short_name(row.name),
            sublabel=row.agency_name,
            segments=[
                charts.Segment(row.completed, charts.GREEN, t("completed")),
                charts.Segment(row.rejected, charts.VERMILLION, t("rejected")),
                charts.Segment(row.cancelled, charts.GREY, t("cancelled")),
                charts.Segment(row.open, charts.BLUE, t("open")),
            ],
            note=f"{row.received} ({row.completed}/{row.rejected}/{row.open})",
            extra={"received": str(row.received)},
        )
        for row in rows
    ]
    return charts.bar_chart(
        "chart-flow",
        t("board_flow"),
        t("board_flow_desc"),
        bars,
        maximum=max([row.received for row in rows] + [1]),
        legend=[
            charts.Legend(charts.GREEN, t("completed")),
            charts.Legend(charts.VERMILLION, t("rejected")),
            charts.Legend(charts.GREY, t("cancelled")),
            charts.Legend(charts.BLUE, t("open")),
        ],
    )


def _time_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    """Median and p90 as a share of each service's own standard, so a 1-day and a 28-day service compare."""
    bars = []
    shares: list[float] = []
    for row in rows:
        standard = float(row.standard_working_days or 1)
        median = None if row.median_working_days is None else 100 * row.median_working_days / standard
        p90 = None if row.p90_working_days is None else 100 * row.p90_working_days / standard
        shares += [value for value in (median, p90) if value is not None]
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                sublabel=f"{t('standard')}: {row.standard_working_days} {t('days_short')}",
                segments=[charts.Segment(median, charts.BLUE, t("median"))] if median is not None else [],
                markers=[charts.Marker(p90, charts.ORANGE, t("p90"))] if p90 is not None else [],
                note=(
                    f"{_number(row.median_working_days)} / {_number(row.p90_working_days)} {t('days_short')}"
                    if row.median_working_days is not None
                    else t("no_data")
                ),
            )
        )
    maximum = min(max([200.0, *shares]), 400.0) * 1.05
    return charts.bar_chart(
        "chart-time",
        t("board_time"),
        t("board_time_desc"),
        bars,
        maximum=maximum,
        legend=[
            charts.Legend(charts.BLUE, t("median")),
            charts.Legend(charts.ORANGE, t("p90"), "line"),
            charts.Legend(charts.YELLOW, t("standard"), "line"),
        ],
        reference=(100.0, t("standard")),
        ticks=[float(value) for value in range(0, int(maximum) + 1, 100)],
        tick_format="{:g}%",
    )


def _compliance_chart(t: Translator, rows: Sequence[ServicePerformance]) -> Markup:
    bars = []
    for row in rows:
        share = row.sla_compliance
        colour = (
            charts.GREEN
            if share is not None and share >= 0.9
            else charts.ORANGE
            if share is not None and share >= 0.75
            else charts.VERMILLION
        )
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                segments=[charts.Segment(100 * share, colour, t("compliance"))] if share is not None else [],
                note=f"{100 * share:.0f}% ({row.on_time}/{row.on_time + row.late})" if share is not None else "—",
            )
        )
    return charts.bar_chart(
        "chart-sla",
        t("board_sla"),
        t("board_sla_desc"),
        bars,
        maximum=100,
        ticks=[0, 25, 50, 75, 100],
        tick_format="{:g}%",
    )


_GRADE_COLOURS = {"A": charts.GREEN, "B": charts.BLUE, "C": charts.ORANGE, "D": charts.VERMILLION}


def _satisfaction_chart(t: Translator, rows: Sequence[ServicePerformance], chart_id: str) -> Markup:
    bars = []
    for row in rows:
        skm = row.satisfaction
        bars.append(
            charts.Bar(
                label=_short_name(row.name),
                sublabel=f"{skm.respondents} {t('respondents')}" if skm else "",
                segments=[charts.Segment(skm.converted - 25, _GRADE_COLOURS[skm.grade], "IKM")] if skm else [],
                note=f"{skm.converted:.2f} {skm.grade}" if skm else "—",
                extra={"grade": skm.grade} if skm else {},
            )
        )
    return charts.bar_chart(
        chart_id,
        t("board_skm"),
        t("board_skm_desc"),
        bars,
        minimum=25,
        maximum=100,
        ticks=[25, *(float(grade.minimum) for grade in reversed(SKM_GRADES[:-1])), 100],
        tick_format="{:g}",
        legend=[charts.Legend(colour, letter) for letter, colour in _GRADE_COLOURS.items()],
    )


def _queue_chart(t: Translator, board: BoardRead) -> Markup:
    rows = board.queue
    bars = [
        charts.Bar(
            label=_short_name(row.service_name),
            sublabel=f"{row.waiting} {t('kiosk_waiting')}",
            segments=[charts.Segment(row.average_wait_minutes or 0, charts.BLUE, t("average_wait"))],
            markers=[charts.Marker(row.longest_wait_minutes, charts.ORANGE, t("longest_wait"))]
            if row.longest_wait_minutes is not None
            else [],
            note=(
                f"{_number(row.average_wait_minutes, 0)} / {_number(row.longest_wait_minutes, 0)} {t('minutes_short')}"
            ),
        )
        for row in rows
    ]
    top = max([row.longest_wait_minutes or 0 for row in rows] + [row.average_wait_minutes or 0 for row in rows] + [10])
    return charts.bar_chart(
        "chart-queue",
        t("board_queue"),
        t("board_queue_desc"),
        bars,
        maximum=top * 1.1,
        legend=[charts.Legend(charts.BLUE, t("average_wait")), charts.Legend(charts.ORANGE, t("longest_wait"), "line")],
    )


@router.get("/board")
async def board_page(request: Request) -> HTMLResponse:
    """The wall screen: charts per service, a table per agency, today's queue; it reloads itself."""
    context = page_context(request)
    t = translator(request)
    days = context.settings.board_days
    board = await context.board.board(days)
    return render_page(
        request,
        "board.html",
        title=t("board_title"),
        refresh=context.settings.board_refresh_seconds,
        period=t("board_period", days=days, time=t.moment(board.generated_at)),
        board=board,
        flow=_flow_chart(t, board.services),
        time_chart=_time_chart(t, board.services),
        compliance=_compliance_chart(t, board.services),
        satisfaction=_satisfaction_chart(t, board.services, "chart-skm"),
        queue=_queue_chart(t, board),
        number=_number,
        rupiah=lambda amount: rupiah(amount, t.language),
        percent=_percent,
    )
