# Copy to prod.tfvars (or <env>.tfvars) and adjust. Never put secret values here:
# the Xendit key and callback token are ephemeral variables passed through the environment
#   export TF_VAR_xendit_api_key=...   TF_VAR_xendit_callback_token=...   TF_VAR_chat_keys=...
#   (TF_VAR_chat_keys: e.g. "k1:$(head -c32 /dev/urandom | base64)"; docs/chat.md)
# and are never written to state, plans or files.

project_id = "halo-bestie-prod"
region     = "asia-southeast2" # Jakarta
domains    = ["api.halobestie.id"]

# Admin function: "iap" (Google sign-in through IAP, then the operator token; needs an
# organisation-owned project) or "network" (VPC/VPN + operator token only).
admin_access      = "iap"
admin_iap_members = ["group:halo-operators@halobestie.id"]

# Internal load balancer of the admin function: HTTPS only, under this private DNS name
# (Cloud DNS private zone halo.internal, certificate from a private CA).
admin_lb = {
  hostname            = "admin.halo.internal"
  allow_global_access = false
}

# Browser origins allowed by CORS (exact origins, never "*").
cors_admin_origins  = ["https://control.halo.internal"]
cors_public_origins = []

# Who is told when an alert fires (at least one address).
alert_emails = ["oncall@halobestie.id"]

# Cloud Armor per-IP limit on the public API.
rate_limit = {
  requests     = 1200
  interval_sec = 60
}
lb_log_sample_rate = 0.1

# Must not overlap the office/VPN ranges that reach the admin load balancer.
network = {
  functions_cidr  = "10.8.0.0/20"
  private_cidr    = "10.9.0.0/24"
  proxy_only_cidr = "10.9.2.0/23"
}

database = {
  tier              = "db-custom-4-16384"
  availability_type = "REGIONAL"
  disk_size_gb      = 50
}

# The plan fails unless the catalogue's worst case (today 894 with the notifier) + db_reserved_connections fits.
db_max_connections      = 1000
db_reserved_connections = 20

valkey = {
  node_type     = "STANDARD_SMALL"
  replica_count = 1
}

enable_deletion_protection = true

# Rotation: bump a number (and, for Xendit, export the new values) and apply.
xendit_secrets_version     = 1
chat_keys_version          = 1
operator_token_key_version = 1

labels = {
  environment = "production"
}
