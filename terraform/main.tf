# Halo Bestie on GCP. Everything about the functions — which exist, how they are reached,
# how big they run — comes from functions/catalogue.yaml (module.catalogue); adding a
# function is one catalogue entry, no Terraform change.

locals {
  repo_root      = "${path.root}/.."
  catalogue_file = "${path.root}/../functions/catalogue.yaml"
  build_dir      = "${path.root}/.build"

  labels = merge(var.labels, {
    app        = "halo-bestie"
    managed-by = "terraform"
  })

  project_id = module.project_services.project_id # waits for the APIs

  apis = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "certificatemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "dns.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "memorystore.googleapis.com",
    "monitoring.googleapis.com",
    "networkconnectivity.googleapis.com",
    "privateca.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ]

  # Plain environment of every function (the function module adds DB_IAM_USER,
  # DB_POOL_SIZE, DB_POOL_OVERFLOW, THREADS and WORKERS; secrets come from Secret Manager;
  # local.cors_env adds the CORS lists per audience).
  common_env = merge(
    {
      ENVIRONMENT          = "production"
      GOOGLE_CLOUD_PROJECT = var.project_id
      FIREBASE_PROJECT_ID  = coalesce(var.firebase_project_id, var.project_id)
      CLOUD_SQL_INSTANCE   = module.database.connection_name
      DB_NAME              = module.database.database_name
      VALKEY_URL           = module.valkey.url
      VALKEY_CA_PEM        = module.valkey.ca_pem
      EVENTS_TOPIC         = module.messaging.events_topic_id
      XENDIT_API_BASE      = var.xendit_api_base
      LOG_LEVEL            = var.log_level
    },
    module.catalogue.sweeper_function == null ? {} : {
      SWEEPER_SCHEDULER_JOB = module.messaging.scheduler_job_ids[module.catalogue.sweeper_function]
    },
  )

  # CORS allow-lists per audience. Every function gets both variables, the list of its own
  # audience and an explicit empty list for the other, so no unset variable ever falls back to
  # a development default: the admin function answers only the control center's origins,
  # the public functions only the web builds' origins.
  cors_env = {
    public = {
      CORS_PUBLIC_ORIGINS = join(",", var.cors_public_origins)
      CORS_ADMIN_ORIGINS  = ""
    }
    internal = {
      CORS_PUBLIC_ORIGINS = ""
      CORS_ADMIN_ORIGINS  = join(",", var.cors_admin_origins)
    }
  }

  # Who gets past Cloud Run's own gate (see modules/function): public functions through the
  # load balancer with the invoker check off, internal HTTP functions as var.admin_access
  # says, event-triggered ones only through their push subscription's identity.
  function_access = {
    for name, fn in module.catalogue.functions : name => (
      fn.ingress == "public" ? "load_balancer" : (fn.http ? var.admin_access : "push")
    )
  }

  # Delivery of event-triggered functions: scheduled ticks (a missed tick is covered by the
  # next one, so stale ticks are dropped after Pub/Sub's 10-minute minimum retention) and
  # domain events (retried with backoff, then dead-lettered).
  push_triggers = merge(
    {
      for name, t in module.catalogue.event_functions : name => {
        topic_id          = module.messaging.scheduled_topic_ids[name]
        dead_letter_after = null
        message_retention = "600s"
        minimum_backoff   = "10s"
        maximum_backoff   = "60s"
      }
    },
    {
      for name, t in module.catalogue.domain_event_functions : name => {
        topic_id          = module.messaging.events_topic_id
        dead_letter_after = t.dead_letter_after
        message_retention = var.domain_event_retention
        minimum_backoff   = "10s"
        maximum_backoff   = "600s"
      }
    },
  )

  project_number           = data.google_project.this.number
  pubsub_service_agent     = "service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  iap_service_agent        = "service-${local.project_number}@gcp-sa-iap.iam.gserviceaccount.com"
  image_repository         = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
  build_service_account_id = "projects/${var.project_id}/serviceAccounts/${trimprefix(google_storage_bucket_iam_member.build_reads_sources.member, "serviceAccount:")}"
}

module "project_services" {
  source = "./modules/project-services"

  project_id = var.project_id
  services   = local.apis
}

data "google_project" "this" {
  project_id = local.project_id
}

module "catalogue" {
  source = "./modules/catalogue"

  catalogue_file          = local.catalogue_file
  known_secrets           = keys(module.secrets.env_secrets)
  sweeper_function        = var.sweeper_function
  db_max_connections      = var.db_max_connections
  db_reserved_connections = var.db_reserved_connections
}

# ---------------------------------------------------------------------------------------
# Network, data stores, secrets, messaging
# ---------------------------------------------------------------------------------------

module "network" {
  source = "./modules/network"

  project_id                     = local.project_id
  region                         = var.region
  name                           = "${var.name_prefix}-vpc"
  functions_cidr                 = var.network.functions_cidr
  private_cidr                   = var.network.private_cidr
  proxy_only_cidr                = var.network.proxy_only_cidr
  private_services_address       = var.network.private_services_address
  private_services_prefix_length = var.network.private_services_prefix_length
  flow_log_sampling              = var.network.flow_log_sampling
}

module "database" {
  source = "./modules/database"

  project_id              = local.project_id
  region                  = var.region
  name                    = "${var.name_prefix}-pg"
  network_id              = module.network.private_services_network_id
  database_version        = var.database.database_version
  edition                 = var.database.edition
  tier                    = var.database.tier
  availability_type       = var.database.availability_type
  disk_size_gb            = var.database.disk_size_gb
  database_name           = var.database.database_name
  max_connections         = var.db_max_connections
  backup_start_time       = var.database.backup_start_time
  backup_retention_count  = var.database.backup_retention_count
  pitr_log_retention_days = var.database.pitr_log_retention_days
  maintenance_window      = { day = var.database.maintenance_day, hour = var.database.maintenance_hour }
  deletion_protection     = var.enable_deletion_protection
  labels                  = local.labels

  # Every function's service account logs in as an IAM database user.
  iam_service_accounts = { for name, fn in module.function : name => fn.service_account_email }
}

module "valkey" {
  source = "./modules/valkey"

  project_id          = local.project_id
  region              = var.region
  name                = "${var.name_prefix}-valkey"
  network_id          = module.network.memorystore_network_id
  node_type           = var.valkey.node_type
  replica_count       = var.valkey.replica_count
  engine_version      = var.valkey.engine_version
  maxmemory_policy    = var.valkey.maxmemory_policy
  persistence_mode    = var.valkey.persistence_mode
  deletion_protection = var.enable_deletion_protection
  labels              = local.labels
}

module "secrets" {
  source = "./modules/secrets"

  project_id                 = local.project_id
  region                     = var.region
  name_prefix                = var.name_prefix
  labels                     = local.labels
  operator_token_key_version = var.operator_token_key_version
  xendit_api_key             = var.xendit_api_key
  xendit_callback_token      = var.xendit_callback_token
  xendit_secrets_version     = var.xendit_secrets_version
  chat_keys                  = var.chat_keys
  chat_keys_version          = var.chat_keys_version
}

module "messaging" {
  source = "./modules/messaging"

  project_id        = local.project_id
  region            = var.region
  events_topic_name = var.events_topic_name
  scheduled         = module.catalogue.event_functions
  labels            = local.labels
}

# ---------------------------------------------------------------------------------------
# Function sources and builds
# ---------------------------------------------------------------------------------------

resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_62:Holds only build inputs (zipped source that is also in git); object access is already in Cloud Audit Logs, a separate access-log bucket adds cost without information.
  project                     = local.project_id
  name                        = "${var.project_id}-${var.name_prefix}-function-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = local.labels

  versioning {
    enabled = true
  }

  # Replaced archives become noncurrent versions; keep them a month for rollbacks.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
}

# Cloud Build runs the function builds as this account (not the default compute account).
resource "google_service_account" "build" {
  project      = local.project_id
  account_id   = "${var.name_prefix}-function-build"
  display_name = "Function builds"
  description  = "Cloud Build identity that builds the Cloud Run functions from source."
}

resource "google_project_iam_member" "build" {
  # run.builder: what Cloud Run's own source builds get; logWriter: the build's logs
  # (CLOUD_LOGGING_ONLY, no logs bucket).
  for_each = toset(["roles/run.builder", "roles/logging.logWriter"])

  project = local.project_id
  role    = each.value
  member  = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member

  depends_on = [
    google_project_iam_member.build,
    google_artifact_registry_repository_iam_member.build_writes_images,
  ]
}

# Function images, tagged with their source hash; old ones are cleaned up.
resource "google_artifact_registry_repository" "images" {
  # checkov:skip=CKV_GCP_84:Google-managed encryption; the images hold only code that is also in git, no data.
  project       = local.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  description   = "Images of the Cloud Run functions, built from source by Cloud Build (tag = source hash)."
  format        = "DOCKER"
  labels        = local.labels

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.images_kept_per_function
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "build_writes_images" {
  project    = local.project_id
  location   = var.region
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# ---------------------------------------------------------------------------------------
# The functions: one module instance per catalogue entry
# ---------------------------------------------------------------------------------------

module "function" {
  source   = "./modules/function"
  for_each = module.catalogue.functions

  project_id  = local.project_id
  region      = var.region
  name        = each.key
  source_dir  = each.value.source
  entry_point = each.value.entry_point
  runtime     = each.value.runtime
  ingress     = each.value.ingress
  access      = local.function_access[each.key]
  sizing      = each.value.sizing
  db_pool     = each.value.db_pool

  push_trigger               = lookup(local.push_triggers, each.key, null)
  pubsub_service_agent_email = local.pubsub_service_agent
  iap_service_agent_email    = local.iap_service_agent
  iap_members                = var.admin_iap_members

  repo_root                = local.repo_root
  build_dir                = local.build_dir
  source_bucket            = google_storage_bucket.sources.name
  image_repository         = local.image_repository
  build_service_account_id = local.build_service_account_id

  network    = module.network.network_name
  subnetwork = module.network.functions_subnet_name

  environment     = merge(local.common_env, local.cors_env[each.value.ingress])
  secret_env      = { for env in each.value.secrets : env => module.secrets.env_secrets[env] }
  events_topic_id = module.messaging.events_topic_id
  project_roles   = each.value.project_roles
  labels          = local.labels
}

# ---------------------------------------------------------------------------------------
# Public path: global external HTTPS load balancer → public functions only
# ---------------------------------------------------------------------------------------

module "public_lb" {
  source = "./modules/public-lb"

  project_id = local.project_id
  region     = var.region
  name       = "${var.name_prefix}-api"
  domains    = var.domains
  backends = {
    for name, paths in module.catalogue.public_routes : name => {
      service = module.function[name].service_name
      paths   = paths
    }
  }
  rate_limit      = var.rate_limit
  log_sample_rate = var.lb_log_sample_rate
}

# No allUsers binding anywhere: public functions have Cloud Run's invoker check disabled
# (invoker_iam_disabled), which Google recommends over allUsers and which an organisation
# policy restricting IAM members (iam.allowedPolicyMemberDomains) does not refuse. They stay
# off the internet except through the load balancer: ingress INTERNAL_LOAD_BALANCER and no
# run.app URL (default_uri_disabled). Cloud Armor rate-limits the load balancer, and the
# application checks Firebase tokens (or Xendit's callback token) on every route.

# ---------------------------------------------------------------------------------------
# Admin path: regional internal load balancer, HTTPS only, under a private DNS name
# ---------------------------------------------------------------------------------------

module "internal_lb" {
  source = "./modules/internal-lb"

  project_id     = local.project_id
  project_number = local.project_number
  region         = var.region
  name           = "${var.name_prefix}-admin"
  network_id     = module.network.network_id
  subnetwork_id  = module.network.internal_lb_subnet_id
  backends = {
    for name, paths in module.catalogue.internal_routes : name => {
      service = module.function[name].service_name
      paths   = paths
    }
  }
  hostname                  = var.admin_lb.hostname
  allow_global_access       = var.admin_lb.allow_global_access
  enable_inbound_dns_policy = var.admin_lb.enable_inbound_dns_policy
  deletion_protection       = var.enable_deletion_protection
  labels                    = local.labels
  log_sample_rate           = 1
}

# ---------------------------------------------------------------------------------------
# On-call: log-based metrics, alert policies, uptime check, operations dashboard
# ---------------------------------------------------------------------------------------

module "monitoring" {
  source = "./modules/monitoring"

  project_id     = local.project_id
  name_prefix    = var.name_prefix
  alert_emails   = var.alert_emails
  http_functions = [for name, fn in module.catalogue.functions : module.function[name].service_name if fn.http]
  public_url_map = module.public_lb.url_map_name
  dead_letter_subscriptions = [
    for name, fn in module.function : fn.push_subscription if fn.dead_letter_topic != null
  ]
  cloud_sql_database_id = "${var.project_id}:${module.database.instance_name}"
  db_max_connections    = var.db_max_connections
  uptime_host           = var.domains[0]
  thresholds            = var.alert_thresholds
}
