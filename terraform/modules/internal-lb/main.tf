# Regional internal Application Load Balancer for the internal HTTP functions (the admin
# function): reachable only from inside the VPC (and networks connected to it, e.g. the
# operators' VPN), never from the internet. URL map generated from the catalogue's internal
# paths; anything else is answered 404 by the load balancer.
#
# HTTPS only, under a private DNS name: a Cloud DNS private zone holds the name, and
# Certificate Manager issues and renews the certificate from a private CA (Certificate
# Authority Service) — a public CA cannot validate a name that resolves only inside the VPC,
# and a regional internal ALB takes regional Certificate Manager certificates. There is no
# port 80 listener at all: plain HTTP is refused (connection refused), so operator passwords
# and tokens never cross the network in clear text. Operators' machines must trust the CA's
# root certificate (the ca_certificate output; distribute it with device management).
#
# The load balancer needs the region's proxy-only subnet to exist first (pass the network
# module's internal_lb_subnet_id, which waits for it).

locals {
  default_backend = sort(keys(var.backends))[0]
  # "admin.halo.internal" → zone "halo.internal."
  zone_dns_name              = "${join(".", slice(split(".", var.hostname), 1, length(split(".", var.hostname))))}."
  cert_manager_service_agent = "service-${var.project_number}@gcp-sa-certificatemanager.iam.gserviceaccount.com"
}

# ---------------------------------------------------------------------------------------
# Private CA → Certificate Manager certificate
# ---------------------------------------------------------------------------------------

resource "google_privateca_ca_pool" "this" {
  project  = var.project_id
  location = var.region
  name     = "${var.name}-ca-pool"
  # DevOps tier: high-volume, short-lived certificates without per-certificate storage or
  # revocation lists; Certificate Manager renews the one server certificate automatically.
  tier   = "DEVOPS"
  labels = var.labels

  publishing_options {
    publish_ca_cert = true
    publish_crl     = false
  }

  issuance_policy {
    maximum_lifetime = "7776000s" # 90 days
  }
}

resource "google_privateca_certificate_authority" "root" {
  project                  = var.project_id
  location                 = var.region
  pool                     = google_privateca_ca_pool.this.name
  certificate_authority_id = "${var.name}-root"
  type                     = "SELF_SIGNED"
  lifetime                 = "315360000s" # 10 years
  deletion_protection      = var.deletion_protection
  labels                   = var.labels

  config {
    subject_config {
      subject {
        organization = "Halo Bestie"
        common_name  = "Halo Bestie internal CA (${var.name})"
      }
    }
    x509_config {
      ca_options {
        is_ca                  = true
        max_issuer_path_length = 0
      }
      key_usage {
        base_key_usage {
          cert_sign = true
          crl_sign  = true
        }
        extended_key_usage {
          server_auth = true
        }
      }
      # The CA can only ever vouch for names in the private zone.
      name_constraints {
        critical            = true
        permitted_dns_names = [trimsuffix(local.zone_dns_name, ".")]
      }
    }
  }

  key_spec {
    algorithm = "EC_P256_SHA256"
  }
}

# Certificate Manager requests certificates from the pool as its service agent.
resource "google_privateca_ca_pool_iam_member" "certificate_manager" {
  project  = var.project_id
  location = var.region
  ca_pool  = google_privateca_ca_pool.this.name
  role     = "roles/privateca.certificateRequester"
  member   = "serviceAccount:${local.cert_manager_service_agent}"
}

resource "google_certificate_manager_certificate_issuance_config" "this" {
  project                    = var.project_id
  location                   = var.region
  name                       = "${var.name}-issuance"
  description                = "Server certificates of ${var.hostname}, issued by ${google_privateca_certificate_authority.root.certificate_authority_id}."
  lifetime                   = "2592000s" # 30 days, renewed automatically
  rotation_window_percentage = 66
  key_algorithm              = "ECDSA_P256"
  labels                     = var.labels

  certificate_authority_config {
    certificate_authority_service_config {
      ca_pool = google_privateca_ca_pool.this.id
    }
  }

  depends_on = [
    google_privateca_certificate_authority.root,
    google_privateca_ca_pool_iam_member.certificate_manager,
  ]
}

resource "google_certificate_manager_certificate" "this" {
  project     = var.project_id
  location    = var.region
  name        = "${var.name}-cert"
  description = "Server certificate of ${var.hostname} on the internal load balancer."
  labels      = var.labels

  managed {
    domains         = [var.hostname]
    issuance_config = google_certificate_manager_certificate_issuance_config.this.id
  }
}

resource "google_compute_region_ssl_policy" "this" {
  project         = var.project_id
  region          = var.region
  name            = "${var.name}-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

# ---------------------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------------------

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

resource "google_compute_region_target_https_proxy" "this" {
  project                          = var.project_id
  region                           = var.region
  name                             = "${var.name}-https"
  url_map                          = google_compute_region_url_map.this.id
  certificate_manager_certificates = [google_certificate_manager_certificate.this.id]
  ssl_policy                       = google_compute_region_ssl_policy.this.id
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
  port_range            = "443" # the only listener: no port 80, plain HTTP is refused
  target                = google_compute_region_target_https_proxy.this.id
  allow_global_access   = var.allow_global_access
  network_tier          = "PREMIUM"
}

# ---------------------------------------------------------------------------------------
# Private DNS name
# ---------------------------------------------------------------------------------------

resource "google_dns_managed_zone" "this" {
  # checkov:skip=CKV_GCP_16:DNSSEC is not supported on private zones (the zone is visible only inside the VPC).
  project     = var.project_id
  name        = "${var.name}-private"
  dns_name    = local.zone_dns_name
  description = "Private names of the admin entry point (visible only inside the VPC and to networks forwarding to it)."
  visibility  = "private"
  labels      = var.labels

  private_visibility_config {
    networks {
      network_url = var.network_id
    }
  }
}

resource "google_dns_record_set" "this" {
  project      = var.project_id
  managed_zone = google_dns_managed_zone.this.name
  name         = "${var.hostname}."
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_address.this.address]
}

# Inbound forwarding: the VPC gets DNS addresses that on-premises/VPN resolvers can forward
# the private zone to, so operators' machines resolve the name too.
resource "google_dns_policy" "inbound" {
  count = var.enable_inbound_dns_policy ? 1 : 0

  project                   = var.project_id
  name                      = "${var.name}-inbound"
  description               = "Lets resolvers on the operators' VPN forward queries for ${local.zone_dns_name} into the VPC."
  enable_inbound_forwarding = true
  enable_logging            = true

  networks {
    network_url = var.network_id
  }
}
