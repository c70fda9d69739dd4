# Global external Application Load Balancer in front of the public functions:
#   HTTPS :443 → URL map (one path rule per catalogue prefix) → backend service per function
#   → serverless NEG → the function's Cloud Run service;  HTTP :80 → redirect to HTTPS.
# Cloud Armor on every backend: a per-client-IP rate limit and the Log4j canary rule.
# Anything not in the catalogue's public paths is answered 404 by the load balancer itself
# (an abort fault on the default route) and never reaches a function.

locals {
  # The URL map needs a default service even though its default route aborts every request
  # with 404; use the first backend so the URL map is valid.
  default_backend = sort(keys(var.backends))[0]
  cert_suffix     = substr(sha256(join(",", sort(var.domains))), 0, 8)
}

resource "google_compute_global_address" "this" {
  project = var.project_id
  name    = "${var.name}-ip"
}

resource "google_compute_managed_ssl_certificate" "this" {
  project = var.project_id
  # Domains of a managed certificate are immutable: a new set gets a new certificate, which
  # is attached before the old one is removed.
  name = "${var.name}-cert-${local.cert_suffix}"

  managed {
    domains = var.domains
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "this" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_security_policy" "this" {
  project     = var.project_id
  name        = "${var.name}-armor"
  description = "Public API: per-IP rate limit and the Log4j canary rule."
  type        = "CLOUD_ARMOR"

  rule {
    action      = "deny(403)"
    priority    = 1000
    description = "Block Log4j (CVE-2021-44228) probes."
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('cve-canary')"
      }
    }
  }

  rule {
    action      = "throttle"
    priority    = 2000
    description = "Per-IP rate limit on the public API: ${var.rate_limit.requests} requests per ${var.rate_limit.interval_sec} s, 429 beyond."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limit.requests
        interval_sec = var.rate_limit.interval_sec
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_region_network_endpoint_group" "this" {
  for_each = var.backends

  project               = var.project_id
  region                = var.region
  name                  = "${var.name}-${each.key}"
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = each.value.service
  }
}

resource "google_compute_backend_service" "this" {
  for_each = var.backends

  project               = var.project_id
  name                  = "${var.name}-${each.key}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.this.id

  backend {
    group = google_compute_region_network_endpoint_group.this[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

resource "google_compute_url_map" "https" {
  project         = var.project_id
  name            = "${var.name}-https"
  default_service = google_compute_backend_service.this[local.default_backend].id

  # Hosts other than var.domains (e.g. the bare IP): 404 at the load balancer.
  default_route_action {
    fault_injection_policy {
      abort {
        http_status = 404
        percentage  = 100
      }
    }
  }

  host_rule {
    hosts        = var.domains
    path_matcher = "api"
  }

  path_matcher {
    name            = "api"
    default_service = google_compute_backend_service.this[local.default_backend].id

    # Paths no function owns: 404 at the load balancer.
    default_route_action {
      fault_injection_policy {
        abort {
          http_status = 404
          percentage  = 100
        }
      }
    }

    # One rule per public function, holding exactly its catalogue paths.
    dynamic "path_rule" {
      for_each = var.backends
      content {
        paths   = path_rule.value.paths
        service = google_compute_backend_service.this[path_rule.key].id
      }
    }
  }
}

resource "google_compute_target_https_proxy" "this" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.this.id]
  ssl_policy       = google_compute_ssl_policy.this.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.this.address
  port_range            = "443"
  target                = google_compute_target_https_proxy.this.id
}

# Port 80 only redirects to HTTPS.
resource "google_compute_url_map" "http_redirect" {
  project = var.project_id
  name    = "${var.name}-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  project = var.project_id
  name    = "${var.name}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  project               = var.project_id
  name                  = "${var.name}-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.this.address
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}
