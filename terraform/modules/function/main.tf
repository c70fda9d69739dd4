# One Cloud Run function (2nd gen) from the catalogue, with its own service account.
#
# Source archive: the Python runtime wants main.py and requirements.txt at the archive root.
# Our code imports `shared.*` and `functions.<name>.*` packages (and the public OpenAPI
# document imports every public function's routes), so the archive holds:
#   main.py           ← functions/<source>/main.py
#   requirements.txt  ← functions/requirements.txt
#   shared/**         the shared package
#   functions/**      every function package and catalogue.yaml
# archive_file takes either source_dir or `source` blocks, so the tree is listed with
# fileset() and added file by file. The object name carries a hash of the contents, so a
# code change uploads a new object and redeploys the function.

locals {
  ingress_settings = {
    public   = "ALLOW_INTERNAL_AND_GCLB" # internal + the global external load balancer only
    internal = "ALLOW_INTERNAL_ONLY"     # VPC, internal load balancer, Eventarc/Scheduler of the project
  }

  package_files = sort([
    for f in setunion(
      fileset(var.repo_root, "shared/**/*.{${var.package_extensions}}"),
      fileset(var.repo_root, "functions/**/*.{${var.package_extensions}}"),
    ) : f if !strcontains(f, "__pycache__/")
  ])

  main_py          = "functions/${var.source_dir}/main.py"
  source_hash      = sha256(join("\n", [for f in concat([local.main_py, var.requirements_file], local.package_files) : "${f} ${filesha256("${var.repo_root}/${f}")}"]))
  db_iam_user      = trimsuffix(google_service_account.runtime.email, ".gserviceaccount.com")
  runtime_roles    = toset(concat(["roles/cloudsql.client", "roles/cloudsql.instanceUser"], var.project_roles))
  runtime_member   = "serviceAccount:${google_service_account.runtime.email}"
  event_triggered  = var.event_trigger != null
  function_summary = var.event_trigger == null ? "HTTP, ${var.ingress} ingress" : "triggered by Pub/Sub"
}

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "fn-${var.name}"
  display_name = "Function ${var.name}"
  description  = "Runtime identity of the ${var.name} function (${local.function_summary})."
}

# Cloud SQL: connect through the connector (client) and log in as an IAM user (instanceUser).
resource "google_project_iam_member" "runtime" {
  for_each = local.runtime_roles

  project = var.project_id
  role    = each.value
  member  = local.runtime_member
}

resource "google_pubsub_topic_iam_member" "events_publisher" {
  project = var.project_id
  topic   = var.events_topic_id
  role    = "roles/pubsub.publisher"
  member  = local.runtime_member
}

# Only the secrets this function reads.
resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each = var.secret_env

  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.runtime_member
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${var.build_dir}/${var.name}-${substr(local.source_hash, 0, 16)}.zip"

  source {
    filename = "main.py"
    content  = file("${var.repo_root}/${local.main_py}")
  }

  source {
    filename = "requirements.txt"
    content  = file("${var.repo_root}/${var.requirements_file}")
  }

  dynamic "source" {
    for_each = toset(local.package_files)
    content {
      filename = source.value
      content  = file("${var.repo_root}/${source.value}")
    }
  }
}

resource "google_storage_bucket_object" "source" {
  name         = "${var.name}/${local.source_hash}.zip"
  bucket       = var.source_bucket
  source       = data.archive_file.source.output_path
  content_type = "application/zip"
}

resource "google_cloudfunctions2_function" "this" {
  # checkov:skip=CKV_GCP_124:ingress_settings is local.ingress_settings[var.ingress], whose only values are ALLOW_INTERNAL_AND_GCLB and ALLOW_INTERNAL_ONLY (var.ingress is validated); checkov cannot resolve the lookup. tests/terraform asserts the mapping.
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = "Halo Bestie ${var.name} (${local.function_summary})."
  labels      = var.labels

  build_config {
    runtime         = var.runtime
    entry_point     = var.entry_point
    service_account = var.build_service_account_id

    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = var.sizing.memory
    available_cpu                    = var.sizing.cpu
    timeout_seconds                  = var.sizing.timeout_s
    min_instance_count               = var.sizing.min_instances
    max_instance_count               = var.sizing.max_instances
    max_instance_request_concurrency = var.sizing.concurrency
    ingress_settings                 = local.ingress_settings[var.ingress]
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime.email

    # Direct VPC egress: private ranges (Cloud SQL, Valkey) through the VPC, the rest direct.
    direct_vpc_egress = "VPC_EGRESS_PRIVATE_RANGES_ONLY"
    direct_vpc_network_interface {
      network    = var.network
      subnetwork = var.subnetwork
    }

    environment_variables = merge(var.environment, {
      DB_IAM_USER      = local.db_iam_user
      DB_POOL_SIZE     = tostring(var.db_pool.size)
      DB_POOL_OVERFLOW = tostring(var.db_pool.overflow)
      THREADS          = tostring(var.sizing.threads)
      WORKERS          = "1"
    })

    dynamic "secret_environment_variables" {
      for_each = var.secret_env
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret
        version    = secret_environment_variables.value.version
      }
    }
  }

  dynamic "event_trigger" {
    for_each = local.event_triggered ? [var.event_trigger] : []
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = event_trigger.value.pubsub_topic_id
      retry_policy          = "RETRY_POLICY_DO_NOT_RETRY"
      service_account_email = one(google_service_account.trigger[*].email)
    }
  }

  # A function cannot read a secret it was not granted at deploy time.
  depends_on = [google_secret_manager_secret_iam_member.runtime]
}

# Event-triggered functions: the Eventarc trigger pushes as its own service account, which
# may invoke this function and nothing else.
resource "google_service_account" "trigger" {
  count = local.event_triggered ? 1 : 0

  project      = var.project_id
  account_id   = "tr-${var.name}"
  display_name = "Trigger of ${var.name}"
  description  = "Eventarc trigger identity that invokes the ${var.name} function."
}

# Pub/Sub signs the push requests of the trigger as that service account. Projects created
# before April 2021 need this grant explicitly; it is harmless elsewhere.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = local.event_triggered ? 1 : 0

  service_account_id = google_service_account.trigger[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.pubsub_service_agent_email}"
}

resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  count = local.event_triggered ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${one(google_service_account.trigger[*].email)}"
}
