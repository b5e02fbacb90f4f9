"""The table ``make bench`` prints at the end of a run, from the results it writes."""

from __future__ import annotations

from typing import Any


def report(results: dict[str, Any]) -> str:
    """The table printed at the end."""
    intake, alone, c, pipeline = results["intake"], results["intake_alone"], results["baseline_c"], results["pipeline"]
    rows = [
        (
            "intake accepted/s, alone",
            f"{alone['accepted_per_second']}",
            f"C {c['accepted_per_second']}",
            f"{alone['ratio_to_c']} (target >= 0.5)",
        ),
        (
            "intake POST p50/p95/p99 ms, alone",
            f"{alone['p50_ms']}/{alone['p95_ms']}/{alone['p99_ms']}",
            f"C {c['p50_ms']}/{c['p95_ms']}/{c['p99_ms']}",
            "",
        ),
        (
            "intake accepted/s, all six consuming",
            f"{intake['accepted_per_second']}",
            f"C {c['accepted_per_second']}",
            f"{intake['ratio_to_c']}",
        ),
        (
            "intake POST p50/p95/p99 ms, all six",
            f"{intake['p50_ms']}/{intake['p95_ms']}/{intake['p99_ms']}",
            "",
            "",
        ),
    ]
    for latency in results["latency"]:
        rate = latency["offered_per_second"]
        rows += [
            (
                f"submit->first task p50/p95/p99 ms at {rate}/s"
                + (", intake+routing alone" if latency.get("intake_and_routing_alone") else ""),
                f"{latency['p50_ms']}/{latency['p95_ms']}/{latency['p99_ms']}",
                f"{latency['tasks_seen']}/{latency['submitted']} seen",
                "p99 target < 250 at 100/s",
            ),
            (
                f"POST p99 ms at {rate}/s"
                + (", intake+routing alone" if latency.get("intake_and_routing_alone") else ""),
                f"{latency['post_p99_ms']}",
                "",
                "target < 50 at 100/s",
            ),
        ]
    rows += [
        (
            "pipeline routed/s, routing hop alone",
            f"{pipeline['routing_hop_per_second']}",
            f"B {pipeline['baseline_b_per_second']}, A {pipeline['baseline_a_per_second']}",
            f"{pipeline['ratio_to_b']} (target >= 0.5)",
        ),
        (
            "pipeline routed/s, all six consuming",
            f"{pipeline['applications_routed_per_second']}",
            f"B {pipeline['baseline_b_per_second']}",
            f"{pipeline['ratio_to_b_all_services']}",
        ),
    ]
    rows += [
        (f"CPU ms per application {name}", f"{spent}", "", "")
        for name, spent in pipeline["cpu_ms_per_application"].items()
    ]
    rows += [(f"peak RSS {name} MB", f"{rss}", "", "target < 150") for name, rss in results["rss_mb"].items()]
    rows += one_slow_agency_rows(results.get("one_slow_agency"))
    width = max(len(row[0]) for row in rows)
    return "\n".join(f"{a:<{width}}  {b:>16}  {c:>28}  {d}" for a, b, c, d in rows)


def one_slow_agency_rows(isolation: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """The rows of the step "one slow agency never stalls another" (none when it did not run)."""
    if not isolation:
        return []
    calm, flooded = isolation["without_flood"], isolation["with_flood"]
    label = f"{isolation['measured_agency']} with {isolation['flooded_agency']} flooded ({isolation['flood_tasks']})"
    return [
        (
            f"submit->first task p50/p99 ms, {label}",
            f"{flooded['p50_ms']}/{flooded['p99_ms']}",
            f"unflooded {calm['p50_ms']}/{calm['p99_ms']}",
            f"{isolation['ratio_p99']} (target <= 2)",
        ),
        (
            f"submit->task at the desk p50/p99 ms, {label}",
            f"{flooded['desk_p50_ms']}/{flooded['desk_p99_ms']}",
            f"unflooded {calm['desk_p50_ms']}/{calm['desk_p99_ms']}",
            f"{isolation['ratio_desk_p99']} (target <= 2)",
        ),
    ]
