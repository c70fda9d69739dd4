# Memorystore for Valkey, cluster mode disabled: one primary (plus replicas in other zones),
# reached through a Private Service Connect endpoint in the VPC. The functions use classic
# PUBLISH/SUBSCRIBE, so no cluster client is needed.
#
# In-transit encryption is on (SERVER_AUTHENTICATION): the data held here (presence, uids of
# signed-in people, rate-limit and revocation marks) crosses the VPC encrypted, and the
# functions verify the server against the instance's own managed CA, which this module
# outputs (`ca_pem`) and the root module passes as VALKEY_CA_PEM; the URL becomes rediss://.
# Changing transit_encryption_mode on an existing instance replaces it (Valkey state is
# rebuildable: the sweeper and heartbeats restore it within a minute).
# No authentication: the endpoint is a private address reachable only from this VPC, and the
# application does not send IAM tokens (authorization_mode = IAM_AUTH would need that).

resource "google_memorystore_instance" "this" {
  project     = var.project_id
  instance_id = var.name
  location    = var.region

  mode           = "CLUSTER_DISABLED"
  shard_count    = 1
  replica_count  = var.replica_count
  node_type      = var.node_type
  engine_version = var.engine_version

  authorization_mode      = "AUTH_DISABLED"
  transit_encryption_mode = var.transit_encryption_mode

  engine_configs = {
    "maxmemory-policy" = var.maxmemory_policy
  }

  # Nodes spread over the region's zones (with replicas, a zone outage fails over).
  zone_distribution_config {
    mode = "MULTI_ZONE"
  }

  persistence_config {
    mode = var.persistence_mode

    dynamic "rdb_config" {
      for_each = var.persistence_mode == "RDB" ? [1] : []
      content {
        rdb_snapshot_period = "ONE_HOUR"
      }
    }
  }

  desired_auto_created_endpoints {
    network    = var.network_id
    project_id = var.project_id
  }

  deletion_protection_enabled = var.deletion_protection
  labels                      = var.labels
}

locals {
  # With cluster mode disabled the instance has a primary (read-write) and a reader endpoint;
  # the functions write, so they get the primary.
  connections = flatten([
    for endpoint in google_memorystore_instance.this.endpoints : [
      for connection in endpoint.connections : connection.psc_auto_connection
    ]
  ])
  primary = concat(
    [for c in local.connections : c if c.connection_type == "CONNECTION_TYPE_PRIMARY"],
    [for c in local.connections : c if c.connection_type == "CONNECTION_TYPE_DISCOVERY"],
  )[0]
}

locals {
  # Every CA of the instance (a new one is published before the old expires): trusting all
  # of them lets a rotation pass without a redeploy of new certificates.
  ca_certificates = flatten([
    for ca in google_memorystore_instance.this.managed_server_ca : [
      for chain in ca.ca_certs : chain.certificates
    ]
  ])
  tls = var.transit_encryption_mode == "SERVER_AUTHENTICATION"
}
