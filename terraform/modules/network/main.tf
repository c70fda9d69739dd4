# The VPC the functions egress into (Direct VPC egress) and every private endpoint lives in:
#   functions   – Direct VPC egress addresses of the Cloud Run functions (≈ 2 per instance)
#   private     – the admin internal load balancer's address and Memorystore's PSC endpoints
#   proxy-only  – Envoy proxies of the regional internal Application Load Balancer
#   private services access range – Cloud SQL's private IP (VPC peering)
# Functions send only private-range traffic into the VPC (PRIVATE_RANGES_ONLY), so internet
# egress (Xendit, Google APIs) needs no Cloud NAT.

resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "functions" {
  project                  = var.project_id
  name                     = "${var.name}-functions"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.functions_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = var.flow_log_sampling
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "private" {
  project                  = var.project_id
  name                     = "${var.name}-private"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.private_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = var.flow_log_sampling
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "proxy_only" {
  # checkov:skip=CKV_GCP_26:Flow logs cannot be enabled on a proxy-only (REGIONAL_MANAGED_PROXY) subnet; the load balancer's own request logs cover it.
  # checkov:skip=CKV_GCP_74:Private Google access does not apply to a proxy-only subnet (no VMs run in it).
  # checkov:skip=CKV_GCP_76:Private Google access does not apply to a proxy-only subnet (no VMs run in it).
  project       = var.project_id
  name          = "${var.name}-proxy-only"
  region        = var.region
  network       = google_compute_network.this.id
  ip_cidr_range = var.proxy_only_cidr
  purpose       = "REGIONAL_MANAGED_PROXY"
  role          = "ACTIVE"
}

# Nothing in the VPC accepts connections from outside it: no VMs, and the functions reach
# Cloud SQL and Valkey through Google-managed endpoints. The rule makes that explicit and
# logs anything that tries.
resource "google_compute_firewall" "deny_all_ingress" {
  project   = var.project_id
  name      = "${var.name}-deny-all-ingress"
  network   = google_compute_network.this.id
  direction = "INGRESS"
  priority  = 65534

  deny {
    protocol = "all"
  }

  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# Private services access: the peering Cloud SQL's private IP lives behind.
resource "google_compute_global_address" "private_services" {
  project       = var.project_id
  name          = "${var.name}-private-services"
  network       = google_compute_network.this.id
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = var.private_services_address
  prefix_length = var.private_services_prefix_length
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]

  # Removing the peering while Cloud SQL still uses it fails; on destroy, leave it to go
  # with the network.
  deletion_policy = "ABANDON"
}

# Lets Memorystore create its Private Service Connect endpoints in the private subnet.
resource "google_network_connectivity_service_connection_policy" "memorystore" {
  project       = var.project_id
  name          = "${var.name}-memorystore"
  location      = var.region
  service_class = "gcp-memorystore"
  description   = "Memorystore for Valkey endpoints of ${var.name}"
  network       = google_compute_network.this.id

  psc_config {
    subnetworks = [google_compute_subnetwork.private.id]
  }
}
