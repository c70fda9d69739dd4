# ---------------------------------------------------------------------------------------
# Project and naming
# ---------------------------------------------------------------------------------------

variable "project_id" {
  description = "GCP project that receives the whole estate (one project per environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of the functions, database, Valkey, internal load balancer and secrets. Default Jakarta."
  type        = string
  default     = "asia-southeast2"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a GCP region name such as asia-southeast2."
  }
}

variable "name_prefix" {
  description = "Prefix of the infrastructure resource names (network, database, Valkey, load balancers, secrets). Functions keep their catalogue names."
  type        = string
  default     = "halo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}$", var.name_prefix))
    error_message = "name_prefix must be 2-10 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Extra labels on every resource that takes labels (app and managed-by are always set)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------

variable "domains" {
  description = "Public host names of the API, e.g. [\"api.halobestie.id\"]. Each needs a DNS A record to the load_balancer_ip output before the managed certificate turns ACTIVE."
  type        = list(string)

  validation {
    condition     = length(var.domains) >= 1 && alltrue([for d in var.domains : can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", d))])
    error_message = "domains must hold at least one lowercase fully-qualified host name (no wildcards)."
  }
}

variable "rate_limit" {
  description = "Cloud Armor per-client-IP limit on the public API. Phones on mobile carriers share IPs (CGNAT): a mitra sends ~3 heartbeats a minute, so 1,200 per minute leaves room for a few hundred users behind one address."
  type = object({
    requests     = optional(number, 1200)
    interval_sec = optional(number, 60)
  })
  default = {}

  validation {
    condition     = var.rate_limit.requests >= 1 && contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.rate_limit.interval_sec)
    error_message = "rate_limit.requests must be at least 1 and interval_sec one of 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600."
  }
}

variable "lb_log_sample_rate" {
  description = "Share of load-balancer requests logged (0-1). Heartbeats alone are ~250 requests/s at 5,000 mitras, so logging all of them costs real money."
  type        = number
  default     = 0.1

  validation {
    condition     = var.lb_log_sample_rate >= 0 && var.lb_log_sample_rate <= 1
    error_message = "lb_log_sample_rate must be between 0 and 1."
  }
}

# ---------------------------------------------------------------------------------------
# Admin (internal) path
# ---------------------------------------------------------------------------------------

variable "admin_access" {
  description = "How operators get past Cloud Run to the admin function (internal ingress either way). \"iap\": IAP on the service — operators sign in with their Google identity (admin_iap_members), then the operator token decides their roles; needs a project inside an organisation. \"network\": invoker check off, reachable only from the VPC/VPN through the internal load balancer, the operator token is the only credential. Default iap (see README: why)."
  type        = string
  default     = "iap"

  validation {
    condition     = contains(["iap", "network"], var.admin_access)
    error_message = "admin_access must be \"iap\" or \"network\"."
  }
}

variable "admin_iap_members" {
  description = "With admin_access = \"iap\": Google identities allowed through IAP to the admin function, e.g. [\"group:halo-operators@halobestie.id\"]. Passing IAP grants no role: the operator token still decides. allUsers and allAuthenticatedUsers are refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.admin_iap_members : !contains(["allusers", "allauthenticatedusers"], lower(m))])
    error_message = "The admin function must never be reachable by allUsers or allAuthenticatedUsers."
  }

  validation {
    condition     = alltrue([for m in var.admin_iap_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
    error_message = "Each member must be an IAM principal such as group:ops@example.com."
  }

  validation {
    condition     = var.admin_access != "iap" || length(var.admin_iap_members) > 0
    error_message = "admin_access = \"iap\" needs at least one member in admin_iap_members, or nobody can reach the admin function."
  }
}

variable "admin_lb" {
  description = "Internal load balancer of the admin function: hostname (private DNS name served over HTTPS with a private-CA certificate; its parent becomes a Cloud DNS private zone), allow_global_access (clients from other regions of the VPC, e.g. a VPN gateway elsewhere), enable_inbound_dns_policy (DNS forwarding entry points for the VPN's resolvers)."
  type = object({
    hostname                  = optional(string, "admin.halo.internal")
    allow_global_access       = optional(bool, false)
    enable_inbound_dns_policy = optional(bool, true)
  })
  default = {}
}

# ---------------------------------------------------------------------------------------
# Browser origins (CORS)
# ---------------------------------------------------------------------------------------

variable "cors_admin_origins" {
  description = "Origins of the control center allowed to call the admin API from a browser (CORS_ADMIN_ORIGINS), e.g. [\"https://control.halo.internal\"]. Exact origins only: never \"*\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_admin_origins : !strcontains(o, "*")])
    error_message = "cors_admin_origins must not contain \"*\": the admin API only answers named origins."
  }

  validation {
    condition     = alltrue([for o in var.cors_admin_origins : can(regex("^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", o)) && !strcontains(o, ",")])
    error_message = "Each admin origin must be scheme://host[:port] in lowercase, without a path or trailing slash."
  }
}

variable "cors_public_origins" {
  description = "Origins of web builds of the apps allowed to call the public API from a browser (CORS_PUBLIC_ORIGINS). Empty by default: the mobile apps need no CORS."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_public_origins : can(regex("^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", o)) && !strcontains(o, ",")])
    error_message = "Each public origin must be scheme://host[:port] in lowercase, without a path, trailing slash or \"*\"."
  }
}

# ---------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------

variable "network" {
  description = "Address plan: functions_cidr (Direct VPC egress, ~2 addresses per function instance), private_cidr (internal load balancer, Memorystore endpoints), proxy_only_cidr (internal load balancer proxies), private_services_address/prefix_length (Cloud SQL peering; null address = Google picks). Must not overlap networks reached over VPN."
  type = object({
    functions_cidr                 = optional(string, "10.8.0.0/20")
    private_cidr                   = optional(string, "10.9.0.0/24")
    proxy_only_cidr                = optional(string, "10.9.2.0/23")
    private_services_address       = optional(string)
    private_services_prefix_length = optional(number, 20)
    flow_log_sampling              = optional(number, 0.1)
  })
  default = {}

  validation {
    condition     = alltrue([for c in [var.network.functions_cidr, var.network.private_cidr, var.network.proxy_only_cidr] : can(cidrnetmask(c))])
    error_message = "functions_cidr, private_cidr and proxy_only_cidr must be IPv4 CIDR ranges."
  }
}

# ---------------------------------------------------------------------------------------
# Cloud SQL
# ---------------------------------------------------------------------------------------

variable "database" {
  description = "Cloud SQL for PostgreSQL settings. Defaults: PostgreSQL 17, ENTERPRISE edition, 4 vCPU / 16 GiB, regional HA, daily backups at 19:00 UTC (02:00 WIB) kept 14 days, 7 days of point-in-time recovery, maintenance Sunday 20:00 UTC (Monday 03:00 WIB)."
  type = object({
    database_version        = optional(string, "POSTGRES_17")
    edition                 = optional(string, "ENTERPRISE")
    tier                    = optional(string, "db-custom-4-16384")
    availability_type       = optional(string, "REGIONAL")
    disk_size_gb            = optional(number, 50)
    database_name           = optional(string, "halo")
    backup_start_time       = optional(string, "19:00")
    backup_retention_count  = optional(number, 14)
    pitr_log_retention_days = optional(number, 7)
    maintenance_day         = optional(number, 7)
    maintenance_hour        = optional(number, 20)
  })
  default = {}
}

variable "db_max_connections" {
  description = "Cloud SQL max_connections. Enforced: Σ over functions of max_instances × (db_pool.size + db_pool.overflow) + db_reserved_connections must fit, or the plan fails. Raise with the tier (each connection costs PostgreSQL memory)."
  type        = number
  default     = 1000

  validation {
    condition     = var.db_max_connections >= 25 && var.db_max_connections <= 262143
    error_message = "db_max_connections must be between 25 and 262143."
  }
}

variable "db_reserved_connections" {
  description = "Connections kept free for migrations, operators and Cloud SQL's superuser slots."
  type        = number
  default     = 20

  validation {
    condition     = var.db_reserved_connections >= 0
    error_message = "db_reserved_connections cannot be negative."
  }
}

variable "images_kept_per_function" {
  description = "Most recent function images kept in Artifact Registry (rollback candidates); older ones are deleted after 30 days."
  type        = number
  default     = 10

  validation {
    condition     = var.images_kept_per_function >= 1
    error_message = "Keep at least one image."
  }
}

variable "enable_deletion_protection" {
  description = "Deletion protection on Cloud SQL, Valkey and the admin entry point's private root CA (Terraform and API level). Turn off only to tear an environment down on purpose."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------
# Memorystore for Valkey
# ---------------------------------------------------------------------------------------

variable "valkey" {
  description = "Memorystore for Valkey (cluster mode disabled): node_type, replica_count (1 = automatic failover to another zone), engine_version, maxmemory_policy, persistence_mode."
  type = object({
    node_type        = optional(string, "STANDARD_SMALL")
    replica_count    = optional(number, 1)
    engine_version   = optional(string, "VALKEY_8_0")
    maxmemory_policy = optional(string, "noeviction")
    persistence_mode = optional(string, "RDB")
  })
  default = {}
}

# ---------------------------------------------------------------------------------------
# Messaging and scheduling
# ---------------------------------------------------------------------------------------

variable "events_topic_name" {
  description = "Pub/Sub topic for domain events (the functions' EVENTS_TOPIC)."
  type        = string
  default     = "halo-domain-events"
}

variable "domain_event_retention" {
  description = "How long an undelivered domain event waits in a function's push subscription (e.g. the notifier's) before Pub/Sub drops it; a push about a match is worthless hours later. Between 600s and 604800s."
  type        = string
  default     = "3600s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.domain_event_retention)) && try(tonumber(trimsuffix(var.domain_event_retention, "s")) >= 600 && tonumber(trimsuffix(var.domain_event_retention, "s")) <= 604800, false)
    error_message = "domain_event_retention must be between \"600s\" and \"604800s\"."
  }
}

variable "sweeper_function" {
  description = "Catalogue function whose Cloud Scheduler job the admin dashboard reports as sweeper health (SWEEPER_SCHEDULER_JOB); null for none."
  type        = string
  default     = "presence-sweeper"
}

# ---------------------------------------------------------------------------------------
# Application settings passed to every function
# ---------------------------------------------------------------------------------------

variable "firebase_project_id" {
  description = "Firebase project whose ID tokens the functions accept; null = project_id."
  type        = string
  default     = null
}

variable "xendit_api_base" {
  description = "Xendit API base URL (XENDIT_API_BASE)."
  type        = string
  default     = "https://api.xendit.co"

  validation {
    condition     = startswith(var.xendit_api_base, "https://")
    error_message = "xendit_api_base must be an https:// URL."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

# ---------------------------------------------------------------------------------------
# On-call
# ---------------------------------------------------------------------------------------

variable "alert_emails" {
  description = "Who is told when an alert fires: one email notification channel per address, on every alert policy. At least one."
  type        = list(string)

  validation {
    condition     = length(var.alert_emails) >= 1 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails needs at least one valid email address."
  }
}

variable "alert_thresholds" {
  description = "Alert thresholds: error_ratio (5xx share per function, 5 min, 0.05), public_latency_p99_s (2), sweeper_absent_s (180), orphans_per_5m (0 = any), no_bestie_ratio (15 min, 0.2), dead_letters_per_5m (0 = any), valkey_memory_ratio (0.8), valkey_connections_ratio (0.8 of valkey_max_clients, 16000 for standard-small), db_connections_ratio (0.8 of db_max_connections), xendit_mismatches_per_5m (0 = any)."
  type = object({
    error_ratio              = optional(number, 0.05)
    public_latency_p99_s     = optional(number, 2)
    sweeper_absent_s         = optional(number, 180)
    orphans_per_5m           = optional(number, 0)
    no_bestie_ratio          = optional(number, 0.2)
    dead_letters_per_5m      = optional(number, 0)
    valkey_memory_ratio      = optional(number, 0.8)
    valkey_connections_ratio = optional(number, 0.8)
    valkey_max_clients       = optional(number, 16000)
    db_connections_ratio     = optional(number, 0.8)
    xendit_mismatches_per_5m = optional(number, 0)
  })
  default = {}
}

# ---------------------------------------------------------------------------------------
# Secrets (values are ephemeral: never written to state, plans or tfvars)
# ---------------------------------------------------------------------------------------

variable "xendit_api_key" {
  description = "Xendit secret API key. Ephemeral and sensitive: pass it as TF_VAR_xendit_api_key on every plan/apply; it is written to Secret Manager only when xendit_secrets_version changes."
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = startswith(var.xendit_api_key, "xnd_")
    error_message = "xendit_api_key must be a Xendit secret key (xnd_production_… or xnd_development_…)."
  }
}

variable "xendit_callback_token" {
  description = "Xendit webhook verification token (dashboard → Settings → Callbacks). Ephemeral and sensitive: pass it as TF_VAR_xendit_callback_token on every plan/apply."
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = length(var.xendit_callback_token) >= 16
    error_message = "xendit_callback_token looks too short to be a Xendit verification token."
  }
}

variable "chat_keys" {
  description = "Chat keyring kid:base64key[,kid:base64key…], 32-byte AES keys, the last one encrypting new messages (docs/chat.md). Ephemeral and sensitive: pass it as TF_VAR_chat_keys on every plan/apply; written to Secret Manager only when chat_keys_version changes."
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,32}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_.-]{1,32}:[A-Za-z0-9+/]{43}=)*$", var.chat_keys))
    error_message = "chat_keys must be kid:base64key entries (32-byte keys), comma-separated."
  }
}

variable "chat_keys_version" {
  description = "Bump (1 → 2 → …) together with a new TF_VAR_chat_keys to rotate: keep every old key, append the new one."
  type        = number
  default     = 1
}

variable "xendit_secrets_version" {
  description = "Bump (1 → 2 → …) together with new Xendit values to rotate them; the functions redeploy with the new secret versions."
  type        = number
  default     = 1
}

variable "operator_token_key_version" {
  description = "Bump (1 → 2 → …) to generate a new operator-token signing key; every operator must sign in again."
  type        = number
  default     = 1
}
