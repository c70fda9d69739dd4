"""The live terminal view (rich), refreshed about twice a second."""

from __future__ import annotations

from rich.table import Table


def _ms(value: object) -> str:
    return "–" if value is None else f"{float(value):.0f} ms"  # type: ignore[arg-type]


def render(summary: dict[str, object], elapsed_s: float, duration_s: float) -> Table:
    table = Table(
        title=f"Halo Bestie simulation · {elapsed_s:4.0f} / {duration_s:.0f} s",
        show_header=False,
        min_width=56,
    )
    table.add_column("what", style="bold")
    table.add_column("now", justify="right")
    table.add_column("what", style="bold")
    table.add_column("total", justify="right")
    table.add_row("mitras online", str(summary["online"]), "requests", str(summary["requests"]))
    table.add_row("  available", str(summary["available"]), "matched", str(summary["matched"]))
    table.add_row("  busy", str(summary["busy"]), "no bestie", str(summary["no_bestie"]))
    table.add_row("searching", str(summary["searching"]), "expired", str(summary["expired"]))
    table.add_row(
        "active sessions", str(summary["active_sessions"]), "cancelled", str(summary["cancelled"])
    )
    table.add_row(
        "match p50",
        _ms(summary["match_ms_p50"]),
        "no-bestie rate",
        f"{summary['no_bestie_rate']:.1%}",
    )
    table.add_row("match p99", _ms(summary["match_ms_p99"]), "drops", str(summary["drops"]))
    errors = int(summary["errors"])  # type: ignore[call-overload]
    table.add_row(
        "over capacity",
        str(summary["over_capacity_seen"]),
        "errors",
        f"[red]{errors}[/red]" if errors else "0",
    )
    return table
