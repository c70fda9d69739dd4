"""How the deployed functions are reached (issue 12) and how the notifier is fed (issue 14),
asserted on the parsed HCL: who gets past Cloud Run's gate per access mode, that no run.app
URL bypasses the load balancers, that the internal load balancer serves only HTTPS under a
private DNS name, and that domain events reach the notifier with a dead-letter topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.terraform.test_terraform_invariants import (
    MODULES,
    TF,
    catalogue,
    dynamic,
    expr,
    labelled,
    locals_of,
    only,
    resources,
)

pytest.importorskip("hcl2", minversion="8", reason="python-hcl2 >= 8 is installed by nox")

FUNCTION = MODULES / "function"
INTERNAL_LB = MODULES / "internal-lb"


def service() -> dict[str, Any]:
    return resources(FUNCTION)[("google_cloud_run_v2_service", "this")]


def access_of(name: str) -> str:
    """The module's access mode for a catalogue entry, evaluated like the root's
    local.function_access (checked against its text below) with the default admin_access."""
    spec = catalogue()["functions"][name]
    if spec["ingress"] == "public":
        return "load_balancer"
    if spec["trigger"] == "http":
        return str(labelled(TF, "variable")["admin_access"]["default"])
    return "push"


# --------------------------------------------------------------------------------------
# Cloud Run's gate per access mode
# --------------------------------------------------------------------------------------


def test_root_derives_access_from_the_catalogue_and_admin_access() -> None:
    access = expr(locals_of(TF)["function_access"])
    assert access == (
        "{for name, fn in module.catalogue.functions : name => "
        '(fn.ingress == "public" ? "load_balancer" : (fn.http ? var.admin_access : "push"))}'
    )
    assert expr(labelled(TF, "module")["function"]["access"]) == "local.function_access[each.key]"
    # The module refuses public ingress with any other mode (and any other mode with it).
    conditions = [
        expr(v["condition"]) for v in labelled(FUNCTION, "variable")["access"]["validation"]
    ]
    assert '(var.access == "load_balancer") == (var.ingress == "public")' in conditions


def test_public_services_have_no_invoker_check_no_default_uri_and_load_balancer_ingress() -> None:
    fn_locals = locals_of(FUNCTION)
    body = service()
    assert expr(body["invoker_iam_disabled"]) == "local.invoker_iam_disabled"
    assert expr(body["default_uri_disabled"]) == "local.default_uri_disabled"
    assert expr(body["iap_enabled"]) == "local.iap_enabled"
    assert (
        expr(fn_locals["invoker_iam_disabled"])
        == 'contains(["load_balancer", "network"], var.access)'
    )
    assert expr(fn_locals["default_uri_disabled"]) == 'var.access != "push"'
    assert expr(fn_locals["iap_enabled"]) == 'var.access == "iap"'
    public = [n for n, s in catalogue()["functions"].items() if s["ingress"] == "public"]
    assert public, "the catalogue has public functions"
    for name in public:
        assert access_of(name) == "load_balancer"
    # load_balancer → invoker check off, default URI off, ingress internal + load balancing.
    assert fn_locals["ingress_settings"]["public"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"


def test_admin_access_is_validated_and_iap_or_network_decides_the_gate() -> None:
    variable = labelled(TF, "variable")["admin_access"]
    assert variable["default"] == "iap", "README justifies iap as the default"
    conditions = [expr(v["condition"]) for v in variable["validation"]]
    assert 'contains(["iap", "network"], var.admin_access)' in conditions
    # iap needs someone to let through.
    members = labelled(TF, "variable")["admin_iap_members"]["validation"]
    assert any(
        expr(v["condition"]) == 'var.admin_access != "iap" || length(var.admin_iap_members) > 0'
        for v in members
    )
    found = resources(FUNCTION)
    # iap: IAP's service agent is the only invoker; operators pass IAP as accessors.
    iap_invoker = found[("google_cloud_run_v2_service_iam_member", "iap_invoker")]
    assert expr(iap_invoker["count"]) == "local.iap_enabled ? 1 : 0"
    assert iap_invoker["role"] == "roles/run.invoker"
    assert expr(iap_invoker["member"]) == "serviceAccount:${var.iap_service_agent_email}"
    accessor = found[("google_iap_web_cloud_run_service_iam_member", "accessor")]
    assert expr(accessor["for_each"]) == "local.iap_enabled ? toset(var.iap_members) : toset([])"
    assert accessor["role"] == "roles/iap.httpsResourceAccessor"
    assert (
        expr(labelled(TF, "module")["function"]["iap_service_agent_email"])
        == "local.iap_service_agent"
    )
    assert "@gcp-sa-iap.iam.gserviceaccount.com" in expr(locals_of(TF)["iap_service_agent"])
    # network: the invoker check is off (same expression as above), ingress stays internal.


def test_admin_ingress_is_internal_only_in_every_access_mode() -> None:
    admin = catalogue()["functions"]["admin"]
    assert admin["ingress"] == "internal" and admin["trigger"] == "http"
    assert access_of("admin") in {"iap", "network"}
    assert locals_of(FUNCTION)["ingress_settings"]["internal"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    # Ingress depends on the catalogue's ingress only, never on the access mode.
    assert expr(service()["ingress"]) == "local.ingress_settings[var.ingress]"
    assert "admin" not in {
        n for n, s in catalogue()["functions"].items() if s["ingress"] == "public"
    }


def test_cors_lists_are_variables_per_audience_and_admin_never_star() -> None:
    variables = labelled(TF, "variable")
    admin = variables["cors_admin_origins"]
    assert admin["default"] == [] and variables["cors_public_origins"]["default"] == []
    assert any(
        expr(v["condition"]) == 'alltrue([for o in var.cors_admin_origins : !strcontains(o, "*")])'
        for v in admin["validation"]
    )
    cors = locals_of(TF)["cors_env"]
    assert expr(cors["internal"]["CORS_ADMIN_ORIGINS"]) == 'join(",", var.cors_admin_origins)'
    assert expr(cors["public"]["CORS_PUBLIC_ORIGINS"]) == 'join(",", var.cors_public_origins)'
    # Each audience gets an explicit empty list for the other one.
    assert (
        cors["internal"]["CORS_PUBLIC_ORIGINS"] == "" and cors["public"]["CORS_ADMIN_ORIGINS"] == ""
    )
    assert (
        expr(labelled(TF, "module")["function"]["environment"])
        == "merge(local.common_env, local.cors_env[each.value.ingress])"
    )


# --------------------------------------------------------------------------------------
# Internal load balancer: HTTPS only, private DNS name, private-CA certificate
# --------------------------------------------------------------------------------------


def test_internal_load_balancer_serves_only_https_with_a_certificate_manager_certificate() -> None:
    lb = resources(INTERNAL_LB)
    kinds = {t for t, _ in lb}
    assert "google_compute_region_target_http_proxy" not in kinds, "no plain-HTTP proxy"
    proxy = lb[("google_compute_region_target_https_proxy", "this")]
    assert "count" not in proxy
    assert proxy["certificate_manager_certificates"] == [
        "${google_certificate_manager_certificate.this.id}"
    ]
    assert expr(proxy["ssl_policy"]) == "google_compute_region_ssl_policy.this.id"
    policy = lb[("google_compute_region_ssl_policy", "this")]
    assert policy["min_tls_version"] == "TLS_1_2"
    rules = [b for (t, _), b in lb.items() if t == "google_compute_forwarding_rule"]
    rule = only(rules)
    assert rule["port_range"] == "443", "the only listener is 443: port 80 is refused"
    assert expr(rule["target"]) == "google_compute_region_target_https_proxy.this.id"
    assert rule["load_balancing_scheme"] == "INTERNAL_MANAGED"
    # The certificate is for the private name and issued by the private CA.
    cert = lb[("google_certificate_manager_certificate", "this")]
    managed = only(cert["managed"])
    assert managed["domains"] == ["${var.hostname}"]
    assert expr(managed["issuance_config"]) == (
        "google_certificate_manager_certificate_issuance_config.this.id"
    )
    issuance = lb[("google_certificate_manager_certificate_issuance_config", "this")]
    cas = only(
        only(issuance["certificate_authority_config"])["certificate_authority_service_config"]
    )
    assert expr(cas["ca_pool"]) == "google_privateca_ca_pool.this.id"
    authority = lb[("google_privateca_certificate_authority", "root")]
    x509 = only(only(authority["config"])["x509_config"])
    constraints = only(x509["name_constraints"])
    assert constraints["critical"] is True
    assert "local.zone_dns_name" in expr(constraints["permitted_dns_names"])
    assert expr(labelled(INTERNAL_LB, "output")["url"]["value"]) == "https://${var.hostname}"


def test_internal_load_balancer_has_a_private_dns_name() -> None:
    lb = resources(INTERNAL_LB)
    zone = lb[("google_dns_managed_zone", "this")]
    assert zone["visibility"] == "private"
    network = only(only(zone["private_visibility_config"])["networks"])
    assert expr(network["network_url"]) == "var.network_id"
    assert expr(zone["dns_name"]) == "local.zone_dns_name"
    record = lb[("google_dns_record_set", "this")]
    assert record["type"] == "A"
    assert expr(record["name"]) == "${var.hostname}."
    assert record["rrdatas"] == ["${google_compute_address.this.address}"]
    call = labelled(TF, "module")["internal_lb"]
    assert expr(call["hostname"]) == "var.admin_lb.hostname"
    default_host = expr(labelled(TF, "variable")["admin_lb"]["type"])
    assert 'hostname = optional(string, "admin.halo.internal")' in default_host


def test_every_http_function_is_behind_a_load_balancer_route() -> None:
    """default_uri_disabled removes run.app for HTTP functions; each must then be routed."""
    public = labelled(TF, "module")["public_lb"]
    internal = labelled(TF, "module")["internal_lb"]
    assert "module.catalogue.public_routes" in expr(public["backends"])
    assert "module.catalogue.internal_routes" in expr(internal["backends"])
    for name, spec in catalogue()["functions"].items():
        if spec["trigger"] == "http":
            assert access_of(name) != "push"
            assert spec.get("paths"), f"{name} would be unreachable"


# --------------------------------------------------------------------------------------
# Notifier: domain events → push subscription → dead-letter topic
# --------------------------------------------------------------------------------------


def test_notifier_is_subscribed_to_domain_events_with_a_dead_letter_topic() -> None:
    notifier = catalogue()["functions"]["notifier"]
    assert notifier["trigger"] == {"domain_events": True, "dead_letter_after": 5}
    assert notifier["ingress"] == "internal" and notifier["paths"] == []
    assert notifier["project_roles"] == ["roles/firebasecloudmessaging.admin"]
    assert access_of("notifier") == "push"
    triggers = expr(locals_of(TF)["push_triggers"])
    assert "for name, t in module.catalogue.domain_event_functions" in triggers
    assert "topic_id = module.messaging.events_topic_id" in triggers
    assert "dead_letter_after = t.dead_letter_after" in triggers
    found = resources(FUNCTION)
    subscription = found[("google_pubsub_subscription", "push")]
    dead_letter = only(dynamic(subscription, "dead_letter_policy")["content"])
    assert expr(dead_letter["dead_letter_topic"]) == "google_pubsub_topic.dead_letter[0].id"
    assert expr(dead_letter["max_delivery_attempts"]) == "dead_letter_policy.value"
    retry = only(subscription["retry_policy"])
    assert expr(retry["minimum_backoff"]) == "var.push_trigger.minimum_backoff"
    assert expr(retry["maximum_backoff"]) == "var.push_trigger.maximum_backoff"
    topic = found[("google_pubsub_topic", "dead_letter")]
    assert expr(topic["name"]) == "${var.name}-dead-letter"
    assert expr(topic["count"]) == "local.dead_lettered ? 1 : 0"
    # Dead-lettered messages are kept somewhere readable.
    keep = found[("google_pubsub_subscription", "dead_letter")]
    assert expr(keep["topic"]) == "google_pubsub_topic.dead_letter[0].id"
    # The Pub/Sub service agent publishes dead letters and acknowledges the source message.
    publisher = found[("google_pubsub_topic_iam_member", "dead_letter_publisher")]
    subscriber = found[("google_pubsub_subscription_iam_member", "dead_letter_subscriber")]
    assert publisher["role"] == "roles/pubsub.publisher"
    assert subscriber["role"] == "roles/pubsub.subscriber"
    for binding in (publisher, subscriber):
        assert expr(binding["member"]) == "serviceAccount:${var.pubsub_service_agent_email}"
    # FCM sending is the catalogue's project role, granted by the function module.
    assert expr(labelled(TF, "module")["function"]["project_roles"]) == "each.value.project_roles"
    # Valid Pub/Sub range, enforced by the module as well as the catalogue.
    conditions = [
        expr(v["condition"]) for v in labelled(FUNCTION, "variable")["push_trigger"]["validation"]
    ]
    assert any(">= 5" in c and "<= 100" in c for c in conditions)
