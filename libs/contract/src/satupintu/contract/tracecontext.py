"""The W3C ``traceparent`` of the active span, which every event carries (the envelope's ``traceparent`` extension).

OpenTelemetry is not a dependency of the contract: a span can be active only where ``opentelemetry-api`` is installed
(every service has it, through ``satupintu-common[service]``); without it there is no trace to continue.
"""

from __future__ import annotations

try:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ModuleNotFoundError:  # no OpenTelemetry here, so no span either
    _PROPAGATOR: TraceContextTextMapPropagator | None = None
else:
    _PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, if there is one."""
    if _PROPAGATOR is None:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")
