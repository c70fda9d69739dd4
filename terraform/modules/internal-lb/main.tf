# Regional internal Application Load Balancer for the internal HTTP functions (the admin
# function): reachable only from inside the VPC (and networks connected to it, e.g. the
# operators' VPN), never from the internet. URL map generated from the catalogue's internal
# paths; anything else is answered 404 by the load balancer.
#
# HTTP on port 80 unless certificates are given, then HTTPS on 443. The load balancer needs
# the region's proxy-only subnet to exist first (pass the network module's
# internal_lb_subnet_id, which waits for it).

locals {
  tls             = length(var.ssl_certificates) > 0
  default_backend = sort(keys(var.backends))[0]
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

resource "google_compute_region_backend_service" "this" {
  for_each = var.backends

  project               = var.project_id
  region                = var.region
  name                  = "${var.name}-${each.key}"
  load_balancing_scheme = "INTERNAL_MANAGED"
  protocol              = "HTTPS"

  backend {
    group           = google_compute_region_network_endpoint_group.this[each.key].id
    balancing_mode  = "UTILIZATION"
    capacity_scaler = 1
  }

  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

resource "google_compute_region_url_map" "this" {
  project         = var.project_id
  region          = var.region
  name            = var.name
  default_service = google_compute_region_backend_service.this[local.default_backend].id

  host_rule {
    hosts        = ["*"]
    path_matcher = "internal"
  }

  path_matcher {
    name            = "internal"
    default_service = google_compute_region_backend_service.this[local.default_backend].id

    # Paths no internal function owns: 404 at the load balancer.
    default_route_action {
      fault_injection_policy {
        abort {
          http_status = 404
          percentage  = 100
        }
      }
    }

    dynamic "path_rule" {
      for_each = var.backends
      content {
        paths   = path_rule.value.paths
        service = google_compute_region_backend_service.this[path_rule.key].id
      }
    }
  }
}

resource "google_compute_region_target_http_proxy" "this" {
  count = local.tls ? 0 : 1

  project = var.project_id
  region  = var.region
  name    = "${var.name}-http"
  url_map = google_compute_region_url_map.this.id
}

resource "google_compute_region_target_https_proxy" "this" {
  count = local.tls ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = "${var.name}-https"
  url_map          = google_compute_region_url_map.this.id
  ssl_certificates = var.ssl_certificates
}

resource "google_compute_address" "this" {
  project      = var.project_id
  region       = var.region
  name         = "${var.name}-ip"
  address_type = "INTERNAL"
  subnetwork   = var.subnetwork_id
}

resource "google_compute_forwarding_rule" "this" {
  project               = var.project_id
  region                = var.region
  name                  = var.name
  load_balancing_scheme = "INTERNAL_MANAGED"
  network               = var.network_id
  subnetwork            = var.subnetwork_id
  ip_address            = google_compute_address.this.address
  ip_protocol           = "TCP"
  port_range            = local.tls ? "443" : "80"
  target                = local.tls ? google_compute_region_target_https_proxy.this[0].id : google_compute_region_target_http_proxy.this[0].id
  allow_global_access   = var.allow_global_access
  network_tier          = "PREMIUM"
}
