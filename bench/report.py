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
            "intake accepted/s, all seven consuming",
            f"{intake['accepted_per_second']}",
            f"C {c['accepted_per_second']}",
            f"{intake['ratio_to_c']} (target >= 0.5)",
        ),
        (
            "intake POST p50/p95/p99 ms, all seven",
            f"{intake['p50_ms']}/{intake['p95_ms']}/{intake['p99_ms']}",
            "",
            "",
        ),
    ]
    rows += whole_system_rows(results)
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
            "pipeline routed/s, all seven consuming",
            f"{pipeline['applications_routed_per_second']}",
            f"B {pipeline['baseline_b_per_second']}",
            f"{pipeline['ratio_to_b_all_services']}",
        ),
    ]
    rows += [
        (f"CPU ms per application {name}", f"{spent}", "", "")
        for name, spent in pipeline["cpu_ms_per_application"].items()
    ]
    rows.append(
        ("CPU ms per application, summed", f"{pipeline.get('cpu_ms_per_application_summed', '')}", "", "target <= 6")
    )
    rows += drain_rows(results)
    rows += [
        (f"peak RSS {name} MB", f"{rss}", "", "target <= 150, under backlog") for name, rss in results["rss_mb"].items()
    ]
    rows += notification_rows(results.get("notification"))
    rows += one_slow_agency_rows(results.get("one_slow_agency"))
    width = max(len(row[0]) for row in rows)
    return "\n".join(f"{a:<{width}}  {b:>16}  {c:>28}  {d}" for a, b, c, d in rows)


def notification_rows(notification: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """The rows of notification's delivery figures (bench/notification.py), when the run measured them."""
    if not notification:
        return []
    count, codes = notification["messages"], notification["codes"]
    return [
        (
            f"notification e-mails/s, backlog of {count}",
            f"{notification['smtp_per_second']}",
            f"D {notification['smtp_baseline_d_per_second']}",
            f"{notification['smtp_ratio_to_d']} (target >= 0.5)",
        ),
        (
            f"notification SMS/s (gateway), backlog of {count}",
            f"{notification['gateway_per_second']}",
            f"D {notification['gateway_baseline_d_per_second']}",
            f"{notification['gateway_ratio_to_d']} (target >= 0.5)",
        ),
        (
            f"one-time code event->sent p50/p95/p99 ms, {count} routine draining",
            f"{codes['p50_ms']}/{codes['p95_ms']}/{codes['p99_ms']}",
            f"{codes['sent']}/{codes['issued']} sent",
            "p99 target < 2000",
        ),
    ]


def _milliseconds(figures: dict[str, Any], wait: float) -> str:
    return "/".join(
        f"> {wait:.0f} s" if figures[p] is None else f"{figures[p]}" for p in ("p50_ms", "p95_ms", "p99_ms")
    )


def whole_system_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Submit to first task and to message sent at each offered rate, with all seven services consuming."""
    rows = []
    for run in results.get("submit_latency", []):
        rate, wait, submitted = run["offered_per_second"], run["waited_seconds"], run["submitted"]
        rows += [
            (
                f"submit->first task p50/p95/p99 ms at {rate}/s, all seven",
                _milliseconds(run["first_task"], wait),
                f"{run['first_task']['seen']}/{submitted} seen",
                "p99 target < 250 at 50/s",
            ),
            (
                f"submit->message sent p50/p95/p99 ms at {rate}/s, all seven",
                _milliseconds(run["message_sent"], wait),
                f"{run['message_sent']['seen']}/{submitted} seen",
                "p99 target < 1000 at 50/s",
            ),
            (f"POST p99 ms at {rate}/s, all seven", f"{run['post_p99_ms']}", "", ""),
        ]
    return rows


def drain_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Each consumer's drain of the backlog, the others paused, against baseline B's hop."""
    b = results.get("drain_baseline_b_per_second")
    rows = []
    for service, drained in results.get("drain", {}).items():
        rows += [
            (
                f"drain events/s {service}, others paused",
                f"{drained['events_per_second']}",
                f"B {b}",
                f"{round(drained['events_per_second'] / b, 2) if b else ''} ({drained['events']} events"
                f"{', ' + str(drained['left']) + ' left' if drained['left'] else ''},"
                f" {drained['applications_per_second']} appl./s, {drained['cpu_ms_per_application']} CPU ms/appl.)",
            )
        ]
    return rows


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
