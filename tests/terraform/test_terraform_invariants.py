"""Offline invariants of terraform/: what must hold before anyone runs `terraform apply`.

The google provider cannot be downloaded here, so `terraform validate` and `plan` of the root
are impossible. The tests check what can be checked without it, in three honest layers:

1. **Real Terraform, no providers.** `modules/catalogue` decodes functions/catalogue.yaml and
   derives everything the rest of the configuration consumes (the deployed functions, the
   URL-map routes of both load balancers, the scheduled functions, the connection budget
   and its validation). It has no providers, so when a `terraform` binary is on PATH these
   tests `init` and `apply` a throwaway root calling it — real HCL evaluation of the real
   for-expressions — and compare the outputs with what Python derives from the same YAML.
   They also plan it with a too-small max_connections and with broken catalogues, which
   must fail. Without the binary these tests skip with a visible reason.
2. **Parsed HCL (python-hcl2).** For the provider-backed resources, the tests parse every
   .tf file and assert the wiring: the root deploys `module.function` for each
   `module.catalogue.functions`; the public load balancer's backends come only from
   `module.catalogue.public_routes`, and its URL map's path rules only from those backends;
   ingress maps public → INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER and internal →
   INGRESS_TRAFFIC_INTERNAL_ONLY; `allUsers` appears nowhere; Cloud SQL has
   `ipv4_enabled = false`. (test_terraform_access.py and test_terraform_monitoring.py cover
   the access model, the internal load balancer's HTTPS, the notifier and the alerts.)
   A small cross-reference check (module arguments vs. variables, `module.X.Y` vs.
   outputs, `var.`/`local.` vs. declarations) stands in for part of `terraform validate`.
3. **A Python mirror of the URL-map rule.** `expected_routes()` re-implements "catalogue
   prefix → URL-map path patterns" in Python, is compared with the evaluated module (layer 1),
   and is cross-checked against the local gateway's own path ownership
   (`shared.catalogue`), so the public load balancer and the gateway agree on every
   prefix, and admin paths match nothing public.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

# python-hcl2 >= 8 (checkov's bc-python-hcl2 fork also installs a module named hcl2, 0.x).
hcl2 = pytest.importorskip(
    "hcl2", minversion="8", reason="python-hcl2 >= 8 is installed by `nox -s terraform`"
)

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "terraform"
MODULES = TF / "modules"
CATALOGUE = REPO / "functions" / "catalogue.yaml"
TERRAFORM = shutil.which("terraform")

needs_terraform = pytest.mark.skipif(
    TERRAFORM is None,
    reason="no terraform binary on PATH: catalogue module not evaluated (HCL checks still run)",
)

# --------------------------------------------------------------------------------------
# Reading HCL
# --------------------------------------------------------------------------------------


@cache
def parse(path: Path) -> dict[str, Any]:
    options = hcl2.SerializationOptions(
        with_comments=False, explicit_blocks=False, strip_string_quotes=True
    )
    with path.open(encoding="utf-8") as f:
        return hcl2.load(f, serialization_options=options)


def module_dirs() -> list[Path]:
    return [TF, *sorted(p for p in MODULES.iterdir() if p.is_dir())]


def tf_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.tf"))


def labelled(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """`variable`, `output` or `module` blocks of one module: name → body."""
    found: dict[str, dict[str, Any]] = {}
    for path in tf_files(directory):
        for block in parse(path).get(kind, []):
            for name, body in block.items():
                assert name not in found, f"{kind} {name} declared twice in {directory}"
                found[name] = body
    return found


def resources(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in tf_files(directory):
        for block in parse(path).get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    found[(rtype, name)] = body
    return found


def all_resources() -> Iterator[tuple[Path, str, str, dict[str, Any]]]:
    for directory in module_dirs():
        for (rtype, name), body in resources(directory).items():
            yield directory, rtype, name, body


def locals_of(directory: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in tf_files(directory):
        for block in parse(path).get("locals", []):
            found.update(block)
    return found


def expr(value: Any) -> str:
    """An HCL expression as written, without the `${...}` wrapper python-hcl2 adds."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return " ".join(text.split())


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


def dynamic(body: dict[str, Any], name: str) -> dict[str, Any]:
    return only([d[name] for d in body.get("dynamic", []) if name in d])


def source_text(directory: Path) -> str:
    """All .tf text of a module with comments removed (for reference scans)."""
    lines = []
    for path in tf_files(directory):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("#", "//")):
                continue
            lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The catalogue, read in Python
# --------------------------------------------------------------------------------------


@cache
def catalogue() -> dict[str, Any]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def merged(name: str) -> dict[str, Any]:
    raw = catalogue()
    spec = raw["functions"][name]
    return {
        "sizing": {**raw["defaults"]["sizing"], **spec.get("sizing", {})},
        "db_pool": {**raw["defaults"]["db_pool"], **spec.get("db_pool", {})},
    }


def url_map_paths(prefixes: list[str]) -> list[str]:
    """Catalogue prefix → URL-map patterns: "/x/" → "/x/*"; "/x" → "/x", "/x/*"."""
    out: list[str] = []
    for p in prefixes:
        out.extend([p + "*"] if p.endswith("/") else [p, p + "/*"])
    return out


def expected_routes(ingress: str) -> dict[str, list[str]]:
    return {
        name: url_map_paths(spec.get("paths", []))
        for name, spec in catalogue()["functions"].items()
        if spec["ingress"] == ingress and spec.get("trigger") == "http"
    }


def expected_budget() -> dict[str, int]:
    return {
        name: merged(name)["sizing"]["max_instances"]
        * (merged(name)["db_pool"]["size"] + merged(name)["db_pool"]["overflow"])
        for name in catalogue()["functions"]
    }


def url_map_match(routes: dict[str, list[str]], path: str) -> str | None:
    """Which backend a URL map sends `path` to: exact patterns, or "/x/*" prefixes; the
    longest match wins; None = the default route (404 here)."""
    best: tuple[int, str] | None = None
    for name, patterns in routes.items():
        for pattern in patterns:
            hit = path.startswith(pattern[:-1]) if pattern.endswith("/*") else path == pattern
            if hit and (best is None or len(pattern) > best[0]):
                best = (len(pattern), name)
    return best[1] if best else None


# --------------------------------------------------------------------------------------
# Layout, in the style of terraform-google-modules
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_every_module_has_main_variables_outputs_versions_and_readme(directory: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"{directory.relative_to(REPO)} lacks {name}"


@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_every_variable_is_described_and_typed(directory: Path) -> None:
    for name, body in labelled(directory, "variable").items():
        assert str(body.get("description", "")).strip(), (
            f"{directory.name}: var.{name} lacks a description"
        )
        assert "type" in body, f"{directory.name}: var.{name} lacks a type"


@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_every_output_is_described(directory: Path) -> None:
    for name, body in labelled(directory, "output").items():
        assert str(body.get("description", "")).strip(), (
            f"{directory.name}: output {name} lacks a description"
        )


@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_versions_pin_terraform_and_every_provider_used(directory: Path) -> None:
    terraform_block = only(parse(directory / "versions.tf")["terraform"])
    assert ">= 1.11" in terraform_block["required_version"]
    declared = {}
    for block in terraform_block.get("required_providers", []):
        declared.update(block)
    text = source_text(directory)
    used = set(re.findall(r'^\s*(?:resource|data|ephemeral) "([a-z0-9]+)_', text, flags=re.M))
    for provider in used - {"terraform"}:
        assert provider in declared, f"{directory.name} uses {provider} but does not pin it"
        assert "<" in declared[provider]["version"], (
            f"{directory.name}: {provider} has no upper bound"
        )


def test_root_ships_example_tfvars_readme_and_only_declared_variables_in_it() -> None:
    assert (TF / "README.md").is_file()
    variables = labelled(TF, "variable")
    example = parse(TF / "example.tfvars")
    assert set(example) <= set(variables), set(example) - set(variables)
    for secret in ("xendit_api_key", "xendit_callback_token", "chat_keys"):
        assert secret not in example, f"{secret} must never be written in a tfvars file"
        assert variables[secret].get("ephemeral") is True
        assert variables[secret].get("sensitive") is True


# --------------------------------------------------------------------------------------
# Cross-references: the part of `terraform validate` that needs no provider schema
# --------------------------------------------------------------------------------------

META_ARGUMENTS = {"source", "for_each", "count", "depends_on", "providers", "version"}


def test_module_calls_pass_exactly_the_declared_variables() -> None:
    for call, body in labelled(TF, "module").items():
        target = (TF / body["source"]).resolve()
        declared = labelled(target, "variable")
        passed = set(body) - META_ARGUMENTS
        assert passed <= set(declared), f"module.{call} passes unknown {passed - set(declared)}"
        required = {n for n, v in declared.items() if "default" not in v}
        assert required <= passed, f"module.{call} misses required {required - passed}"


def test_module_output_references_exist() -> None:
    calls = labelled(TF, "module")
    outputs = {c: set(labelled((TF / b["source"]).resolve(), "output")) for c, b in calls.items()}
    for call, _, attribute in re.findall(r"module\.(\w+)(\[[^\]]*\])?\.(\w+)", source_text(TF)):
        assert call in outputs, f"module.{call} does not exist"
        assert attribute in outputs[call], f"module.{call} has no output {attribute}"


@pytest.mark.parametrize("directory", module_dirs(), ids=lambda p: p.name)
def test_var_and_local_references_are_declared(directory: Path) -> None:
    text = source_text(directory)
    variables = set(labelled(directory, "variable"))
    local_names = set(locals_of(directory))
    for name in set(re.findall(r"\bvar\.(\w+)", text)):
        assert name in variables, f"{directory.name}: var.{name} is not declared"
    for name in set(re.findall(r"\blocal\.(\w+)", text)):
        assert name in local_names, f"{directory.name}: local.{name} is not defined"


# --------------------------------------------------------------------------------------
# The catalogue drives the functions
# --------------------------------------------------------------------------------------


def test_terraform_decodes_the_same_catalogue_file_the_gateway_reads() -> None:
    root_locals = locals_of(TF)
    assert expr(root_locals["catalogue_file"]) == "${path.root}/../functions/catalogue.yaml"
    assert (TF / ".." / "functions" / "catalogue.yaml").resolve() == CATALOGUE
    assert expr(labelled(TF, "module")["catalogue"]["catalogue_file"]) == "local.catalogue_file"
    module_locals = locals_of(MODULES / "catalogue")
    assert expr(module_locals["raw"]) == "yamldecode(file(var.catalogue_file))"
    from shared.catalogue import CATALOGUE_PATH  # the gateway's reader

    assert CATALOGUE_PATH.resolve() == CATALOGUE


def test_catalogue_defaults_are_merged_per_key() -> None:
    fn = expr(locals_of(MODULES / "catalogue")["functions"])
    assert "sizing = merge(local.defaults.sizing, try(fn.sizing, {}))" in fn
    assert "db_pool = merge(local.defaults.db_pool, try(fn.db_pool, {}))" in fn
    assert "source = try(fn.source, name)" in fn


def test_every_catalogue_function_is_deployed_by_one_module_instance() -> None:
    call = labelled(TF, "module")["function"]
    assert call["source"] == "./modules/function"
    assert expr(call["for_each"]) == "module.catalogue.functions"
    for argument, value in {
        "name": "each.key",
        "source_dir": "each.value.source",
        "entry_point": "each.value.entry_point",
        "ingress": "each.value.ingress",
        "sizing": "each.value.sizing",
        "db_pool": "each.value.db_pool",
    }.items():
        assert expr(call[argument]) == value, argument
    functions = [
        b
        for (t, _), b in resources(MODULES / "function").items()
        if t == "google_cloud_run_v2_service"
    ]
    function = only(functions)
    assert "for_each" not in function and "count" not in function
    # Built from function source: the catalogue's entry point is the function target.
    build = only(function["build_config"])
    assert expr(build["function_target"]) == "var.entry_point"
    assert expr(build["source_location"]) == "local.source_location"
    # Nothing else deploys a function or a Cloud Run service.
    others = [
        (d.name, n)
        for d, t, n, _ in all_resources()
        if (t.startswith("google_cloudfunctions") or t == "google_cloud_run_v2_service")
        and d.name != "function"
    ]
    assert others == []
    assert not [t for _, t, _, _ in all_resources() if t.startswith("google_cloudfunctions")]


def test_instances_and_concurrency_come_from_the_catalogue_sizing() -> None:
    function = resources(MODULES / "function")[("google_cloud_run_v2_service", "this")]
    template = only(function["template"])
    scaling = only(template["scaling"])
    assert expr(scaling["min_instance_count"]) == "var.sizing.min_instances"
    assert expr(scaling["max_instance_count"]) == "var.sizing.max_instances"
    assert expr(template["max_instance_request_concurrency"]) == "var.sizing.concurrency"
    container = only(template["containers"])
    limits = only(container["resources"])["limits"]
    assert expr(limits["memory"]) == "var.sizing.memory"
    assert expr(limits["cpu"]) == "var.sizing.cpu"
    assert expr(template["timeout"]) == "${var.sizing.timeout_s}s"
    assert [expr(d["env"]["for_each"]) for d in container["dynamic"] if "env" in d] == [
        "local.plain_env",
        "var.secret_env",
    ]
    environment = expr(locals_of(MODULES / "function")["plain_env"])
    for key, value in {
        "THREADS": "tostring(var.sizing.threads)",
        "DB_POOL_SIZE": "tostring(var.db_pool.size)",
        "DB_POOL_OVERFLOW": "tostring(var.db_pool.overflow)",
        "WORKERS": '"1"',
    }.items():
        assert re.search(rf"\b{key} = {re.escape(value)}", environment), key


def test_every_function_has_its_own_service_account_with_only_cloud_sql_roles_by_default() -> None:
    found = resources(MODULES / "function")
    assert ("google_service_account", "runtime") in found
    assert expr(locals_of(MODULES / "function")["runtime_roles"]) == (
        'toset(concat(["roles/cloudsql.client", "roles/cloudsql.instanceUser"], var.project_roles))'
    )
    assert (
        expr(found[("google_pubsub_topic_iam_member", "events_publisher")]["topic"])
        == "var.events_topic_id"
    )
    secret_iam = found[("google_secret_manager_secret_iam_member", "runtime")]
    assert expr(secret_iam["for_each"]) == "var.secret_env"
    root_call = labelled(TF, "module")["function"]
    assert (
        expr(root_call["secret_env"])
        == "{for env in each.value.secrets : env => module.secrets.env_secrets[env]}"
    )
    assert expr(root_call["project_roles"]) == "each.value.project_roles"
    # No project-wide secret access or broad roles anywhere.
    for _, rtype, name, body in all_resources():
        if rtype == "google_project_iam_member":
            role = expr(body["role"])
            assert "secretmanager" not in role and "owner" not in role and "editor" not in role, (
                name,
                role,
            )


# Catalogue entries whose code another branch delivers; once merged, the full check applies.
def test_every_function_main_defines_its_entry_point_and_the_runtime_requirements_exist() -> None:
    for name, spec in catalogue()["functions"].items():
        main = REPO / "functions" / spec.get("source", name) / "main.py"
        assert main.is_file(), f"{name}: {main.relative_to(REPO)} is missing"
        tree = ast.parse(main.read_text(encoding="utf-8"))
        # An async entry point is served in ASGI mode (the events function).
        functions = (ast.FunctionDef, ast.AsyncFunctionDef)
        defined = {n.name for n in tree.body if isinstance(n, functions)}
        assert spec["entry_point"] in defined, (
            f"{name}: {spec['entry_point']} is not defined in {main}"
        )
    requirements = expr(labelled(MODULES / "function", "variable")["requirements_file"]["default"])
    assert (REPO / requirements).is_file(), (
        f"{requirements} (the functions' requirements.txt) is missing"
    )


def test_source_archive_holds_main_requirements_shared_and_functions() -> None:
    archive = only([b for (t, _), b in _data(MODULES / "function").items() if t == "archive_file"])
    sources = archive["source"]
    filenames = {expr(s["filename"]) for s in sources}
    assert filenames == {"main.py", "requirements.txt", "project.toml"}
    toml = expr(locals_of(MODULES / "function")["project_toml"])
    assert "GOOGLE_FUNCTION_TARGET" in toml and "${var.entry_point}" in toml
    assert expr(dynamic(archive, "source")["for_each"]) == "toset(local.package_files)"
    package_files = expr(locals_of(MODULES / "function")["package_files"])
    assert 'fileset(var.repo_root, "shared/**/*.{${var.package_extensions}}")' in package_files
    assert 'fileset(var.repo_root, "functions/**/*.{${var.package_extensions}}")' in package_files
    found = resources(MODULES / "function")
    obj = found[("google_storage_bucket_object", "source")]
    assert expr(obj["name"]) == "local.source_object"
    function_locals = locals_of(MODULES / "function")
    assert "local.source_hash" in expr(function_locals["source_object"]), (
        "the object name must carry the content hash"
    )
    # The archive Terraform uploads is the one build_config names and the one Cloud Build
    # builds; the image tag carries the same hash, so a code change rebuilds and redeploys.
    assert (
        expr(function_locals["source_location"])
        == "gs://${var.source_bucket}/${local.source_object}"
    )
    assert "local.source_hash" in expr(function_locals["image"])
    assert "local.source_location" in expr(function_locals["build_config"])
    image = found[("terraform_data", "image")]
    assert expr(image["input"]) == "local.image"
    service = found[("google_cloud_run_v2_service", "this")]
    container = only(only(service["template"])["containers"])
    assert expr(container["image"]) == "terraform_data.image.output"


def _data(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in tf_files(directory):
        for block in parse(path).get("data", []):
            for dtype, named in block.items():
                for name, body in named.items():
                    found[(dtype, name)] = body
    return found


# --------------------------------------------------------------------------------------
# Ingress: public functions behind the load balancer, admin internal only
# --------------------------------------------------------------------------------------


def test_ingress_maps_public_to_load_balancer_and_internal_to_internal_only() -> None:
    mapping = locals_of(MODULES / "function")["ingress_settings"]
    assert mapping == {
        "public": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    }
    function = resources(MODULES / "function")[("google_cloud_run_v2_service", "this")]
    assert expr(function["ingress"]) == "local.ingress_settings[var.ingress]"
    ingress_validation = only(labelled(MODULES / "function", "variable")["ingress"]["validation"])
    assert expr(ingress_validation["condition"]) == 'contains(["public", "internal"], var.ingress)'
    for directory in module_dirs():
        text = source_text(directory)
        assert "ALLOW_ALL" not in text and "INGRESS_TRAFFIC_ALL" not in text, (
            f"{directory.name} allows all ingress"
        )


def test_admin_is_internal_in_the_catalogue_and_therefore_allow_internal_only() -> None:
    admin = catalogue()["functions"]["admin"]
    assert admin["ingress"] == "internal"
    assert (
        locals_of(MODULES / "function")["ingress_settings"][admin["ingress"]]
        == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    )


def test_public_load_balancer_gets_only_catalogue_public_routes() -> None:
    call = labelled(TF, "module")["public_lb"]
    assert expr(call["backends"]) == (
        "{for name, paths in module.catalogue.public_routes : name => "
        "{service = module.function[name].service_name, paths = paths}}"
    )
    internal = labelled(TF, "module")["internal_lb"]
    assert "module.catalogue.internal_routes" in expr(internal["backends"])
    routes = expr(locals_of(MODULES / "catalogue")["public_routes"])
    assert routes == "{for name, fn in local.public_functions : name => local.url_map_paths[name]}"
    public = expr(locals_of(MODULES / "catalogue")["public_functions"])
    assert public == '{for name, fn in local.functions : name => fn if fn.ingress == "public"}'


def test_public_url_map_routes_only_its_backends_and_404s_the_rest() -> None:
    lb = resources(MODULES / "public-lb")
    url_map = lb[("google_compute_url_map", "https")]
    matcher = only(url_map["path_matcher"])
    rule = dynamic(matcher, "path_rule")
    assert expr(rule["for_each"]) == "var.backends"
    content = only(rule["content"])
    assert expr(content["paths"]) == "path_rule.value.paths"
    assert expr(content["service"]) == "google_compute_backend_service.this[path_rule.key].id"
    assert "path_rule" not in matcher, "no hand-written path rules besides the generated ones"
    assert "route_rules" not in matcher
    for default in (url_map, matcher):
        abort = only(only(only(default["default_route_action"])["fault_injection_policy"])["abort"])
        assert abort == {"http_status": 404, "percentage": 100}
    for key in (
        ("google_compute_region_network_endpoint_group", "this"),
        ("google_compute_backend_service", "this"),
    ):
        assert expr(lb[key]["for_each"]) == "var.backends", key
    # HTTP only redirects.
    redirect = only(lb[("google_compute_url_map", "http_redirect")]["default_url_redirect"])
    assert redirect["https_redirect"] is True


def test_cloud_armor_rate_limits_per_ip_on_every_public_backend() -> None:
    lb = resources(MODULES / "public-lb")
    backend = lb[("google_compute_backend_service", "this")]
    assert expr(backend["security_policy"]) == "google_compute_security_policy.this.id"
    rules = lb[("google_compute_security_policy", "this")]["rule"]
    throttle = only([r for r in rules if r["action"] == "throttle"])
    options = only(throttle["rate_limit_options"])
    assert options["enforce_on_key"] == "IP"
    assert options["exceed_action"] == "deny(429)"


def test_no_all_users_anywhere_and_admin_has_no_public_invoker() -> None:
    holders = []
    for directory, rtype, name, body in all_resources():
        text = json.dumps(body).lower()
        if "allusers" in text or "allauthenticatedusers" in text:
            holders.append((directory.name, rtype, name))
    assert holders == [], "no resource may grant anything to allUsers / allAuthenticatedUsers"
    # Every run.invoker binding names one service account (IAP's or a push trigger's).
    for directory, rtype, name, body in all_resources():
        if rtype.endswith("_iam_member") and expr(body.get("role", "")) == "roles/run.invoker":
            assert expr(body["member"]).startswith("serviceAccount:"), (directory.name, name)
    conditions = [
        expr(v["condition"]) for v in labelled(TF, "variable")["admin_iap_members"]["validation"]
    ]
    assert any('["allusers", "allauthenticatedusers"]' in c and "lower(m)" in c for c in conditions)
    module_conditions = [
        expr(v["condition"])
        for v in labelled(MODULES / "function", "variable")["iap_members"]["validation"]
    ]
    assert any('["allusers", "allauthenticatedusers"]' in c for c in module_conditions)
    assert "admin" not in expected_routes("public")
    # No function-level IAM bindings that could bypass this.
    assert not [
        t for _, t, _, _ in all_resources() if t.startswith("google_cloudfunctions2_function_iam")
    ]


# --------------------------------------------------------------------------------------
# URL map ↔ catalogue ↔ local gateway
# --------------------------------------------------------------------------------------


def test_catalogue_module_expands_prefixes_like_the_python_mirror() -> None:
    paths = expr(locals_of(MODULES / "catalogue")["url_map_paths"])
    assert paths == (
        "{for name, fn in local.functions : name => flatten([for p in fn.paths : "
        'endswith(p, "/") ? ["${p}*"] : [p, "${p}/*"]])}'
    )


def test_url_map_and_gateway_send_every_probe_path_to_the_same_function() -> None:
    from shared.catalogue import load_catalogue

    gateway = load_catalogue(CATALOGUE)
    routes = expected_routes("public")
    probes: set[str] = set()
    for spec in catalogue()["functions"].values():
        for prefix in spec.get("paths", []):
            stem = prefix.rstrip("/")
            probes |= {
                prefix,
                stem,
                stem + "/",
                stem + "/x",
                stem + "/x/y",
                stem + "x",
                stem + "-x",
            }
    probes |= {"/", "/api", "/api/", "/api/admin", "/api/admin/auth/login", "/nothing"}
    for path in sorted(probes):
        owner = gateway.owner_of(path, "public")
        assert url_map_match(routes, path) == (owner.name if owner else None), path
    for admin_path in ("/api/admin/", "/api/admin/auth/login", "/api/admin/dashboard/stream"):
        assert url_map_match(routes, admin_path) is None


# --------------------------------------------------------------------------------------
# Data: Cloud SQL private only, backups, PITR, deletion protection, IAM auth
# --------------------------------------------------------------------------------------


def test_cloud_sql_has_no_public_ip_and_requires_mutual_tls() -> None:
    instance = only([b for _, t, _, b in all_resources() if t == "google_sql_database_instance"])
    settings = only(instance["settings"])
    ip = only(settings["ip_configuration"])
    assert ip["ipv4_enabled"] is False
    assert expr(ip["private_network"]) == "var.network_id"
    assert "authorized_networks" not in ip
    assert ip["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    root_call = labelled(TF, "module")["database"]
    assert expr(root_call["network_id"]) == "module.network.private_services_network_id"


def test_cloud_sql_backups_pitr_deletion_protection_and_iam_auth() -> None:
    database = resources(MODULES / "database")
    instance = database[("google_sql_database_instance", "this")]
    settings = only(instance["settings"])
    backup = only(settings["backup_configuration"])
    assert backup["enabled"] is True
    assert backup["point_in_time_recovery_enabled"] is True
    assert expr(instance["deletion_protection"]) == "var.deletion_protection"
    assert expr(settings["deletion_protection_enabled"]) == "var.deletion_protection"
    assert (
        expr(labelled(TF, "module")["database"]["deletion_protection"])
        == "var.enable_deletion_protection"
    )
    assert labelled(TF, "variable")["enable_deletion_protection"]["default"] is True
    flags = expr(locals_of(MODULES / "database")["flags"])
    assert '"cloudsql.iam_authentication" = "on"' in flags
    assert '"max_connections" = tostring(var.max_connections)' in flags
    user = database[("google_sql_user", "iam")]
    assert user["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"
    assert expr(user["name"]) == 'trimsuffix(each.value, ".gserviceaccount.com")'
    iam_accounts = expr(labelled(TF, "module")["database"]["iam_service_accounts"])
    assert iam_accounts == "{for name, fn in module.function : name => fn.service_account_email}"


def test_connection_budget_validation_guards_the_same_max_connections_cloud_sql_gets() -> None:
    variable = labelled(MODULES / "catalogue", "variable")["db_max_connections"]
    condition = expr(only(variable["validation"])["condition"])
    assert (
        condition == "local.db_worst_case + var.db_reserved_connections <= var.db_max_connections"
    )
    per_function = expr(locals_of(MODULES / "catalogue")["db_per_function"])
    assert "fn.sizing.max_instances * (fn.db_pool.size + fn.db_pool.overflow)" in per_function
    calls = labelled(TF, "module")
    assert expr(calls["catalogue"]["db_max_connections"]) == "var.db_max_connections"
    assert expr(calls["database"]["max_connections"]) == "var.db_max_connections"
    root_vars = labelled(TF, "variable")
    budget = sum(expected_budget().values())
    reserved = root_vars["db_reserved_connections"]["default"]
    assert budget + reserved <= root_vars["db_max_connections"]["default"], (
        f"today's catalogue needs {budget} + {reserved} connections"
    )


# --------------------------------------------------------------------------------------
# Sweeper: Scheduler → Pub/Sub → Eventarc trigger → sweep_presence
# --------------------------------------------------------------------------------------


def test_scheduler_publishes_to_the_trigger_topic_and_only_the_push_identity_may_invoke() -> None:
    messaging = resources(MODULES / "messaging")
    job = messaging[("google_cloud_scheduler_job", "scheduled")]
    assert expr(job["schedule"]) == "each.value.schedule"
    assert "attempt_deadline" not in job, "attempt_deadline does not apply to Pub/Sub targets"
    target = only(job["pubsub_target"])
    assert expr(target["topic_name"]) == "google_pubsub_topic.scheduled[each.key].id"
    assert (
        expr(labelled(TF, "module")["messaging"]["scheduled"]) == "module.catalogue.event_functions"
    )
    # The scheduled topic feeds the sweeper's push subscription.
    triggers = expr(locals_of(TF)["push_triggers"])
    assert "for name, t in module.catalogue.event_functions" in triggers
    assert "topic_id = module.messaging.scheduled_topic_ids[name]" in triggers
    assert (
        expr(labelled(TF, "module")["function"]["push_trigger"])
        == "lookup(local.push_triggers, each.key, null)"
    )
    function = resources(MODULES / "function")
    subscription = function[("google_pubsub_subscription", "push")]
    assert expr(subscription["topic"]) == "var.push_trigger.topic_id"
    push = only(subscription["push_config"])
    assert push["push_endpoint"] == (
        "${google_cloud_run_v2_service.this.uri}/${var.push_trigger.topic_id}"
    )
    oidc = only(push["oidc_token"])
    assert expr(oidc["service_account_email"]) == "one(google_service_account.trigger[*].email)"
    assert expr(oidc["audience"]) == "google_cloud_run_v2_service.this.uri"
    invoker = function[("google_cloud_run_v2_service_iam_member", "trigger_invoker")]
    assert invoker["role"] == "roles/run.invoker"
    assert expr(invoker["name"]) == "google_cloud_run_v2_service.this.name"
    assert expr(invoker["member"]) == (
        "serviceAccount:${one(google_service_account.trigger[*].email)}"
    )
    # Push targets the run.app URL, so event-triggered services keep it (behind internal
    # ingress and the invoker check); everything else disables it.
    assert expr(locals_of(MODULES / "function")["default_uri_disabled"]) == 'var.access != "push"'
    assert "events" in {n for t, n in messaging if t == "google_pubsub_topic"}


# --------------------------------------------------------------------------------------
# Layer 1: the catalogue module evaluated by real Terraform
# --------------------------------------------------------------------------------------


def _terraform(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [TERRAFORM, *args, "-no-color"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _root_inputs(catalogue_file: Path, **overrides: Any) -> dict[str, Any]:
    """The catalogue module's arguments as the real root passes them."""
    secrets = locals_of(MODULES / "secrets")["secrets"]
    root_vars = labelled(TF, "variable")
    inputs = {
        "catalogue_file": str(catalogue_file),
        "known_secrets": sorted(secrets),
        "sweeper_function": root_vars["sweeper_function"]["default"],
        "db_max_connections": root_vars["db_max_connections"]["default"],
        "db_reserved_connections": root_vars["db_reserved_connections"]["default"],
    }
    inputs.update(overrides)
    return inputs


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH: the catalogue module is not evaluated")
    workdir = tmp_path_factory.mktemp("catalogue-eval")
    source = os.path.relpath(MODULES / "catalogue", workdir)
    names = list(labelled(MODULES / "catalogue", "variable"))
    variables = "\n".join(f'variable "{n}" {{\n  type = any\n}}' for n in names)
    arguments = "\n".join(f"  {n} = var.{n}" for n in names)
    (workdir / "main.tf").write_text(
        f'{variables}\n\nmodule "catalogue" {{\n  source = "{source}"\n{arguments}\n}}\n\n'
        'output "catalogue" {\n  value = module.catalogue\n}\n',
        encoding="utf-8",
    )
    init = _terraform(workdir, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    return workdir


def _evaluate(workdir: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    (workdir / "inputs.tfvars.json").write_text(json.dumps(inputs), encoding="utf-8")
    applied = _terraform(
        workdir, "apply", "-auto-approve", "-input=false", "-var-file=inputs.tfvars.json"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    shown = _terraform(workdir, "output", "-json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)["catalogue"]["value"]


def _plan_error(workdir: Path, inputs: dict[str, Any]) -> str:
    (workdir / "inputs.tfvars.json").write_text(json.dumps(inputs), encoding="utf-8")
    planned = _terraform(workdir, "plan", "-input=false", "-var-file=inputs.tfvars.json")
    assert planned.returncode != 0, "the plan should have failed"
    return " ".join((planned.stdout + planned.stderr).split())


@pytest.fixture(scope="module")
def evaluated(evaluator: Path) -> dict[str, Any]:
    return _evaluate(evaluator, _root_inputs(CATALOGUE))


@needs_terraform
def test_evaluated_functions_are_exactly_the_catalogue_merged_with_defaults(
    evaluated: dict[str, Any],
) -> None:
    functions = evaluated["functions"]
    assert set(functions) == set(catalogue()["functions"])
    for name, spec in catalogue()["functions"].items():
        fn = functions[name]
        assert fn["source"] == spec.get("source", name)
        assert fn["entry_point"] == spec["entry_point"]
        assert fn["ingress"] == spec["ingress"]
        assert fn["sizing"] == merged(name)["sizing"]
        assert fn["db_pool"] == merged(name)["db_pool"]
        assert fn["http"] == (spec["trigger"] == "http")


@needs_terraform
def test_evaluated_routes_hold_every_public_prefix_and_nothing_else(
    evaluated: dict[str, Any],
) -> None:
    assert evaluated["public_routes"] == expected_routes("public")
    assert evaluated["internal_routes"] == expected_routes("internal")
    assert "admin" not in evaluated["public_routes"]
    public_prefixes = {
        p
        for s in catalogue()["functions"].values()
        if s["ingress"] == "public"
        for p in s.get("paths", [])
    }
    routed = {p for patterns in evaluated["public_routes"].values() for p in patterns}
    assert routed == set(url_map_paths(sorted(public_prefixes)))


@needs_terraform
def test_evaluated_secrets_and_roles_follow_least_privilege(evaluated: dict[str, Any]) -> None:
    functions = evaluated["functions"]
    assert functions["admin"]["secrets"] == ["OPERATOR_TOKEN_SECRET"]
    assert sorted(functions["payments"]["secrets"]) == ["XENDIT_API_KEY", "XENDIT_CALLBACK_TOKEN"]
    # The sweeper reads invoices from Xendit (payment reconciliation), never callbacks.
    assert functions["presence-sweeper"]["secrets"] == ["XENDIT_API_KEY"]
    # Only the function that reads and writes chat text holds the chat keyring (erasure and
    # retention need no key: they drop ciphertext).
    assert functions["sessions"]["secrets"] == ["CHAT_KEYS"]
    for name, fn in functions.items():
        if name not in {"admin", "payments", "presence-sweeper", "sessions"}:
            assert fn["secrets"] == [], name
    assert functions["admin"]["project_roles"] == ["roles/cloudscheduler.viewer"]


@needs_terraform
def test_evaluated_scheduled_functions_and_budget(evaluated: dict[str, Any]) -> None:
    scheduled = {
        name: {"pubsub_topic": s["trigger"]["pubsub_topic"], "schedule": s["trigger"]["schedule"]}
        for name, s in catalogue()["functions"].items()
        if isinstance(s["trigger"], dict) and "schedule" in s["trigger"]
    }
    assert evaluated["event_functions"] == scheduled
    domain = {
        name: {"dead_letter_after": s["trigger"]["dead_letter_after"]}
        for name, s in catalogue()["functions"].items()
        if isinstance(s["trigger"], dict) and s["trigger"].get("domain_events") is True
    }
    assert evaluated["domain_event_functions"] == domain
    assert domain["notifier"] == {"dead_letter_after": 5}
    budget = evaluated["db_connection_budget"]
    assert budget["per_function"] == expected_budget()
    assert budget["worst_case"] == sum(expected_budget().values())


@needs_terraform
def test_plan_fails_when_the_connection_budget_does_not_fit(evaluator: Path) -> None:
    worst = sum(expected_budget().values())
    reserved = labelled(TF, "variable")["db_reserved_connections"]["default"]
    error = _plan_error(evaluator, _root_inputs(CATALOGUE, db_max_connections=worst + reserved - 1))
    assert "Connection budget exceeded" in error
    assert f"can open {worst} connections" in error
    # Exactly enough is enough.
    _evaluate(evaluator, _root_inputs(CATALOGUE, db_max_connections=worst + reserved))


@needs_terraform
def test_plan_fails_on_an_inconsistent_catalogue(evaluator: Path, tmp_path: Path) -> None:
    broken = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    functions = broken["functions"]
    functions["auth"]["sizing"] = {"concurrency": 200, "threads": 10}
    functions["sessions"]["paths"] = []
    functions["payments"]["paths"].append("/api/client/auth/")  # already auth's
    functions["greedy"] = {
        "entry_point": "x",
        "trigger": "http",
        "ingress": "public",
        "paths": ["/api/"],
    }
    functions["payments"]["secrets"] = ["STRIPE_KEY"]
    functions["notifier"]["trigger"]["dead_letter_after"] = 3
    functions["pusher"] = {
        "entry_point": "x",
        "trigger": {"domain_events": True, "dead_letter_after": 5},
        "ingress": "public",
        "paths": [],
    }
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    error = _plan_error(evaluator, _root_inputs(path, db_max_connections=100000))
    for expected in (
        "auth: sizing.threads (10) must be at least sizing.concurrency (200)",
        "sessions: an HTTP function needs at least one path prefix",
        'URL-map path "/api/client/auth/*" is claimed by more than one function',
        'greedy: public prefix "/api/" covers the internal prefix "/api/admin/"',
        'payments: unknown secret "STRIPE_KEY"',
        "notifier: trigger.dead_letter_after must be a number between 5 and 100",
        "pusher: an event-triggered function must be internal and own no paths",
    ):
        assert expected in error, expected
