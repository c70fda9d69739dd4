"""On-call as code (issue 17): every alert policy exists, notifies the channels, carries a
runbook line and watches the right signal; the log signals it relies on are metrics; the
uptime check calls the public health route through the load balancer; one dashboard."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.terraform.test_terraform_invariants import (
    MODULES,
    TF,
    expr,
    labelled,
    locals_of,
    only,
    resources,
)

pytest.importorskip("hcl2", minversion="8", reason="python-hcl2 >= 8 is installed by nox")

MONITORING = MODULES / "monitoring"

# Alert policy → a fragment its (numerator) filter must contain.
POLICIES = {
    "error_ratio": 'metric.label.response_code_class="5xx"',
    "public_latency": "public_latency",
    "sweeper_absent": "sweeper_run",
    "orphans": "orphan_detected",
    "no_bestie": 'metric.label.outcome="no_bestie"',
    "dead_letters": "pubsub.googleapis.com/subscription/dead_letter_message_count",
    "valkey_memory": "memorystore.googleapis.com/instance/memory/maximum_utilization",
    "valkey_connections": "memorystore.googleapis.com/instance/clients/maximum_connected_clients",
    "db_connections": "cloudsql.googleapis.com/database/postgresql/num_backends",
    "xendit_mismatch": 'metric.label.outcome="mismatch"',
    "uptime": "monitoring.googleapis.com/uptime_check/check_passed",
}

SIGNALS = {
    "pairing_outcome": ["outcome"],
    "orphan_detected": [],
    "orphan_handled": ["action"],
    "sweeper_run": ["outcome"],
    "xendit_webhook": ["outcome"],
    "payment_reconciled": ["outcome"],
    "session_timeout": [],
    "push_send": ["outcome"],
}


def policies() -> dict[str, dict[str, Any]]:
    return {
        name: body
        for (rtype, name), body in resources(MONITORING).items()
        if rtype == "google_monitoring_alert_policy"
    }


def condition(body: dict[str, Any]) -> dict[str, Any]:
    """The single condition_* block of a policy's single condition."""
    cond = only(body["conditions"])
    return only(cond[only([k for k in cond if k.startswith("condition_")])])


def raw(value: Any) -> str:
    return str(value)


def test_every_required_alert_policy_exists_with_channels_and_a_runbook() -> None:
    found = policies()
    assert set(found) == set(POLICIES), set(found) ^ set(POLICIES)
    for name, body in found.items():
        assert expr(body["notification_channels"]) == "local.channels", name
        documentation = only(body["documentation"])
        assert documentation["mime_type"] == "text/markdown", name
        assert str(documentation["content"]).startswith("Runbook: "), name
        assert len(str(documentation["content"])) > 80, f"{name}: the runbook says what to do"
        cond = condition(body)
        assert POLICIES[name] in raw(cond["filter"]), (name, cond["filter"])
    channels = expr(locals_of(MONITORING)["channels"])
    assert channels == "[for c in google_monitoring_notification_channel.email : c.id]"


def test_notification_channels_come_from_a_non_empty_email_list() -> None:
    channel = resources(MONITORING)[("google_monitoring_notification_channel", "email")]
    assert expr(channel["for_each"]) == "toset(var.alert_emails)"
    assert channel["type"] == "email"
    assert expr(channel["labels"]["email_address"]) == "each.value"
    for directory in (TF, MONITORING):
        variable = labelled(directory, "variable")["alert_emails"]
        assert "default" not in variable, "alert_emails is required"
        assert any(
            "length(var.alert_emails) >= 1" in expr(v["condition"]) for v in variable["validation"]
        )
    assert expr(labelled(TF, "module")["monitoring"]["alert_emails"]) == "var.alert_emails"


def test_ratio_alerts_have_a_denominator_and_the_no_bestie_window_is_15_minutes() -> None:
    found = policies()
    errors = condition(found["error_ratio"])
    assert "denominator_filter" in errors
    assert "response_code_class" not in raw(errors["denominator_filter"])
    for aggregation in (only(errors["aggregations"]), only(errors["denominator_aggregations"])):
        assert aggregation["group_by_fields"] == ["resource.label.service_name"]
    no_bestie = condition(found["no_bestie"])
    assert "no_bestie" not in raw(no_bestie["denominator_filter"]).split("one_of")[0]
    assert only(no_bestie["aggregations"])["alignment_period"] == "900s"
    assert only(no_bestie["denominator_aggregations"])["alignment_period"] == "900s"
    assert expr(no_bestie["threshold_value"]) == "local.t.no_bestie_ratio"


def test_sweeper_alert_fires_on_absence_of_successful_runs_for_three_minutes() -> None:
    body = policies()["sweeper_absent"]
    cond = only(body["conditions"])
    absent = only(cond["condition_absent"])
    assert 'metric.label.outcome="ok"' in raw(absent["filter"])
    assert expr(absent["duration"]) == "${local.t.sweeper_absent_s}s"
    defaults = labelled(TF, "variable")["alert_thresholds"]["type"]
    assert "sweeper_absent_s = optional(number, 180)" in expr(defaults)


def test_capacity_alerts_are_80_percent_of_their_budgets_by_default() -> None:
    defaults = expr(labelled(TF, "variable")["alert_thresholds"]["type"])
    for key in ("valkey_memory_ratio", "valkey_connections_ratio", "db_connections_ratio"):
        assert f"{key} = optional(number, 0.8)" in defaults, key
    found = policies()
    assert expr(condition(found["db_connections"])["threshold_value"]) == (
        "floor(local.t.db_connections_ratio * var.db_max_connections)"
    )
    assert (
        expr(labelled(TF, "module")["monitoring"]["db_max_connections"]) == "var.db_max_connections"
    )
    assert expr(condition(found["valkey_connections"])["threshold_value"]) == (
        "floor(local.t.valkey_connections_ratio * local.t.valkey_max_clients)"
    )


def test_dead_letter_alert_watches_the_dead_lettering_subscriptions() -> None:
    body = policies()["dead_letters"]
    assert expr(body["count"]) == "length(var.dead_letter_subscriptions) > 0 ? 1 : 0"
    call = expr(labelled(TF, "module")["monitoring"]["dead_letter_subscriptions"])
    assert call == (
        "[for name, fn in module.function : fn.push_subscription if fn.dead_letter_topic != null]"
    )


def test_log_signals_become_metrics_with_their_labels() -> None:
    counters = locals_of(MONITORING)["counters"]
    assert counters == SIGNALS
    metric = resources(MONITORING)[("google_logging_metric", "counter")]
    assert 'jsonPayload.event="${each.key}"' in raw(metric["filter"])
    assert (
        expr(metric["label_extractors"])
        == '{for l in each.value : l => "EXTRACT(jsonPayload.${l})"}'
    )
    latency = resources(MONITORING)[("google_logging_metric", "public_latency")]
    assert "NOT httpRequest.requestUrl=~" in raw(latency["filter"])
    stream_regex = labelled(MONITORING, "variable")["stream_path_regex"]["default"]
    assert re.search(stream_regex, "/api/client/events?ticket=x")
    assert re.search(stream_regex, "/api/mitra/events")
    assert not re.search(stream_regex, "/api/client/pairing-requests")


def test_uptime_check_calls_the_public_health_route_over_https_through_the_load_balancer() -> None:
    check = resources(MONITORING)[("google_monitoring_uptime_check_config", "health")]
    http = only(check["http_check"])
    assert expr(http["path"]) == "var.health_path"
    assert http["use_ssl"] is True and http["validate_ssl"] is True and http["port"] == 443
    assert labelled(MONITORING, "variable")["health_path"]["default"] == "/api/shared/health"
    resource = only(check["monitored_resource"])
    assert resource["type"] == "uptime_url"
    assert expr(resource["labels"]["host"]) == "var.uptime_host"
    assert expr(labelled(TF, "module")["monitoring"]["uptime_host"]) == "var.domains[0]"


def test_one_operations_dashboard_shows_every_alerted_figure() -> None:
    dashboards = [
        b for (t, _), b in resources(MONITORING).items() if t == "google_monitoring_dashboard"
    ]
    assert expr(only(dashboards)["dashboard_json"]) == "jsonencode(local.dashboard)"
    tiles = raw(locals_of(MONITORING)["tiles"])
    for fragment in (
        "response_code_class",
        "public_latency",
        "pairing_outcome",
        "sweeper_run",
        "orphan_detected",
        "xendit_webhook",
        "push_send",
        "dead_letter_message_count",
        "num_backends",
        "memory/maximum_utilization",
        "maximum_connected_clients",
        "uptime_check/check_passed",
    ):
        assert fragment in tiles, fragment


def test_the_uptime_path_is_routed_by_the_public_load_balancer() -> None:
    from tests.terraform.test_terraform_invariants import expected_routes, url_map_match

    path = labelled(MONITORING, "variable")["health_path"]["default"]
    owner = url_map_match(expected_routes("public"), path)
    if owner is None:
        pytest.skip(f"{path} joins auth's catalogue paths with the ops branch (issue 17)")
    assert owner == "auth"
