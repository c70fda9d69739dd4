# One Cloud Run function from the catalogue, deployed as a Cloud Run service built from
# function source (google_cloud_run_v2_service + build_config), with its own service account.
#
# Why a Cloud Run service and not google_cloudfunctions2_function: only the Cloud Run service
# exposes invoker_iam_disabled, iap_enabled and default_uri_disabled. With them the public
# functions need no allUsers binding (an organisation policy forbidding allUsers cannot break
# the apply), no run.app URL bypasses the load balancers, and the admin function sits behind
# IAP or the network instead of an ID-token wall a browser cannot pass.
#
# Building: `build_config` records how the function is built (source object, entry point,
# build identity) but does not start a build (provider issue #22263; Google's comment in
# terraform-google-cloud-run PR #398). The image is therefore built explicitly, the way Google
# documents for infrastructure as code ("Build functions", Cloud Run docs): Cloud Build runs
# Google Cloud's buildpacks on the uploaded source archive (terraform_data.image below) and
# the service runs that image. The tag is a hash of the sources, so a code change builds and
# deploys a new image and an unchanged tree builds nothing.
#
# Source archive: buildpacks want main.py and requirements.txt at the archive root. Our code
# imports `shared.*` and `functions.<name>.*` packages (and the public OpenAPI document
# imports every public function's routes), so the archive holds:
#   main.py           ← functions/<source>/main.py
#   requirements.txt  ← functions/requirements.txt
#   project.toml      ← GOOGLE_FUNCTION_TARGET (the entry point) and the Python version
#   shared/**         the shared package
#   functions/**      every function package and catalogue.yaml
# archive_file takes either source_dir or `source` blocks, so the tree is listed with
# fileset() and added file by file.

locals {
  ingress_settings = {
    public   = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" # internal + Cloud Load Balancing only
    internal = "INGRESS_TRAFFIC_INTERNAL_ONLY"          # VPC, internal load balancer, Pub/Sub push of the project
  }

  # Who gets past Cloud Run's own gate, per access mode (validated in variables.tf):
  #   load_balancer  public function: invoker check off; the application authenticates
  #   iap            admin: IAP on the service (Google identity), then the operator token
  #   network        admin: invoker check off; internal ingress + the operator token
  #   push           event-triggered: invoker check on, only the trigger's account may invoke
  invoker_iam_disabled = contains(["load_balancer", "network"], var.access)
  iap_enabled          = var.access == "iap"
  # Pub/Sub pushes to the run.app URL; everything else is reached through a load balancer.
  default_uri_disabled = var.access != "push"

  package_files = sort([
    for f in setunion(
      fileset(var.repo_root, "shared/**/*.{${var.package_extensions}}"),
      fileset(var.repo_root, "functions/**/*.{${var.package_extensions}}"),
    ) : f if !strcontains(f, "__pycache__/")
  ])

  main_py        = "functions/${var.source_dir}/main.py"
  python_version = "3.${trimprefix(var.runtime, "python3")}"
  project_toml   = <<-EOT
    # Written by Terraform: buildpacks read the entry point and Python version from here.
    [[build.env]]
    name = "GOOGLE_FUNCTION_TARGET"
    value = "${var.entry_point}"

    [[build.env]]
    name = "GOOGLE_RUNTIME_VERSION"
    value = "${local.python_version}"
  EOT

  source_hash = sha256(join("\n", concat(
    [for f in concat([local.main_py, var.requirements_file], local.package_files) : "${f} ${filesha256("${var.repo_root}/${f}")}"],
    ["project.toml ${sha256(local.project_toml)}", "builder ${var.builder}"],
  )))
  source_object   = "${var.name}/${local.source_hash}.zip"
  source_location = "gs://${var.source_bucket}/${local.source_object}"
  image           = "${var.image_repository}/${var.name}:${substr(local.source_hash, 0, 32)}"

  # Cloud Build: fetch the exact archive Terraform uploaded, run the buildpacks, push the image.
  build_config = jsonencode({
    steps = [
      {
        id         = "fetch-source"
        name       = "gcr.io/google.com/cloudsdktool/cloud-sdk:slim"
        entrypoint = "bash"
        args       = ["-ceu", "gcloud storage cp ${local.source_location} /workspace/source.zip && python3 -m zipfile -e /workspace/source.zip /workspace/src"]
      },
      {
        id         = "buildpacks"
        name       = "gcr.io/k8s-skaffold/pack"
        entrypoint = "pack"
        dir        = "src"
        args       = ["build", local.image, "--builder", var.builder, "--network", "cloudbuild", "--path", ".", "--publish"]
      },
    ]
    serviceAccount = var.build_service_account_id
    options        = { logging = "CLOUD_LOGGING_ONLY" }
    timeout        = "1200s"
  })

  db_iam_user      = trimsuffix(google_service_account.runtime.email, ".gserviceaccount.com")
  runtime_roles    = toset(concat(["roles/cloudsql.client", "roles/cloudsql.instanceUser"], var.project_roles))
  runtime_member   = "serviceAccount:${google_service_account.runtime.email}"
  event_triggered  = var.push_trigger != null
  dead_lettered    = local.event_triggered && try(var.push_trigger.dead_letter_after, null) != null
  function_summary = local.event_triggered ? "Pub/Sub push" : "HTTP, ${var.ingress} ingress, ${var.access}"

  plain_env = merge(var.environment, {
    DB_IAM_USER      = local.db_iam_user
    DB_POOL_SIZE     = tostring(var.db_pool.size)
    DB_POOL_OVERFLOW = tostring(var.db_pool.overflow)
    THREADS          = tostring(var.sizing.threads)
    WORKERS          = "1"
  })
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

# ---------------------------------------------------------------------------------------
# Source archive → image
# ---------------------------------------------------------------------------------------

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

  source {
    filename = "project.toml"
    content  = local.project_toml
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
  name         = local.source_object
  bucket       = var.source_bucket
  source       = data.archive_file.source.output_path
  content_type = "application/zip"
}

# Builds the image once per source hash (the tag). Needs gcloud on the machine that applies
# (README: prerequisites); the build itself runs in Cloud Build as the build service account.
resource "terraform_data" "image" {
  input            = local.image
  triggers_replace = [local.image, google_storage_bucket_object.source.md5hash]

  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = file("${path.module}/build.sh")
    environment = {
      BUILD_CONFIG = local.build_config
      PROJECT      = var.project_id
      REGION       = var.region
      IMAGE        = local.image
    }
  }
}

# ---------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------

resource "google_cloud_run_v2_service" "this" {
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = "Halo Bestie ${var.name} (${local.function_summary})."
  labels      = var.labels

  ingress              = local.ingress_settings[var.ingress]
  invoker_iam_disabled = local.invoker_iam_disabled
  iap_enabled          = local.iap_enabled
  default_uri_disabled = local.default_uri_disabled
  # Stateless and rebuilt from source on every apply; removing a catalogue entry must be able
  # to delete its service.
  deletion_protection = false

  build_config {
    source_location          = local.source_location
    function_target          = var.entry_point
    image_uri                = local.image
    service_account          = var.build_service_account_id
    enable_automatic_updates = false
  }

  template {
    service_account                  = google_service_account.runtime.email
    timeout                          = "${var.sizing.timeout_s}s"
    max_instance_request_concurrency = var.sizing.concurrency

    scaling {
      min_instance_count = var.sizing.min_instances
      max_instance_count = var.sizing.max_instances
    }

    # Direct VPC egress: private ranges (Cloud SQL, Valkey) through the VPC, the rest direct.
    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network
        subnetwork = var.subnetwork
      }
    }

    containers {
      image = terraform_data.image.output

      resources {
        limits = {
          cpu    = var.sizing.cpu
          memory = var.sizing.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.plain_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret_id
              version = env.value.version
            }
          }
        }
      }
    }
  }

  # A revision cannot read a secret it was not granted when it starts.
  depends_on = [google_secret_manager_secret_iam_member.runtime]
}

# IAP (admin_access = "iap"): IAP's service agent invokes the service after it has checked the
# operator's Google identity; only var.iap_members may pass IAP.
resource "google_cloud_run_v2_service_iam_member" "iap_invoker" {
  count = local.iap_enabled ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.iap_service_agent_email}"
}

resource "google_iap_web_cloud_run_service_iam_member" "accessor" {
  for_each = local.iap_enabled ? toset(var.iap_members) : toset([])

  project                = var.project_id
  location               = var.region
  cloud_run_service_name = google_cloud_run_v2_service.this.name
  role                   = "roles/iap.httpsResourceAccessor"
  member                 = each.value
}

# ---------------------------------------------------------------------------------------
# Event-triggered functions: a Pub/Sub push subscription with an OIDC token
# ---------------------------------------------------------------------------------------
#
# A push subscription rather than an Eventarc trigger: it is what an Eventarc Pub/Sub trigger
# creates underneath, and it exposes the retry policy and dead-letter policy that Eventarc
# does not. functions-framework turns the Pub/Sub push body into the same
# google.cloud.pubsub.topic.v1.messagePublished CloudEvent the code already handles.

resource "google_service_account" "trigger" {
  count = local.event_triggered ? 1 : 0

  project      = var.project_id
  account_id   = "tr-${var.name}"
  display_name = "Trigger of ${var.name}"
  description  = "Pub/Sub push identity that invokes the ${var.name} function."
}

# Pub/Sub mints the push requests' OIDC tokens as that service account. Projects created
# before April 2021 need this grant explicitly; it is harmless elsewhere.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = local.event_triggered ? 1 : 0

  service_account_id = google_service_account.trigger[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.pubsub_service_agent_email}"
}

# The trigger's account may invoke this service and nothing else (never allUsers).
resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  count = local.event_triggered ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${one(google_service_account.trigger[*].email)}"
}

resource "google_pubsub_subscription" "push" {
  count = local.event_triggered ? 1 : 0

  project = var.project_id
  name    = "${var.name}-push"
  topic   = var.push_trigger.topic_id
  labels  = var.labels

  # The function's own timeout bounds one delivery (Pub/Sub allows at most 600 s).
  ack_deadline_seconds       = min(600, max(10, var.sizing.timeout_s))
  message_retention_duration = var.push_trigger.message_retention

  push_config {
    # The topic in the path lets functions-framework name the CloudEvent's source.
    push_endpoint = "${google_cloud_run_v2_service.this.uri}/${var.push_trigger.topic_id}"
    oidc_token {
      service_account_email = one(google_service_account.trigger[*].email)
      audience              = google_cloud_run_v2_service.this.uri
    }
  }

  retry_policy {
    minimum_backoff = var.push_trigger.minimum_backoff
    maximum_backoff = var.push_trigger.maximum_backoff
  }

  dynamic "dead_letter_policy" {
    for_each = local.dead_lettered ? [var.push_trigger.dead_letter_after] : []
    content {
      dead_letter_topic     = google_pubsub_topic.dead_letter[0].id
      max_delivery_attempts = dead_letter_policy.value
    }
  }

  # Never expire for inactivity (the default deletes a subscription idle for 31 days).
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.trigger_invoker,
    google_service_account_iam_member.pubsub_token_creator,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

# Dead letters: after dead_letter_after failed deliveries Pub/Sub moves the message to
# <name>-dead-letter, where a pull subscription keeps it for inspection and replay.
resource "google_pubsub_topic" "dead_letter" {
  # checkov:skip=CKV_GCP_83:Google-managed encryption, as for the events topic it copies.
  count = local.dead_lettered ? 1 : 0

  project = var.project_id
  name    = "${var.name}-dead-letter"
  labels  = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_subscription" "dead_letter" {
  count = local.dead_lettered ? 1 : 0

  project                    = var.project_id
  name                       = "${var.name}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[0].id
  labels                     = var.labels
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic
# and must be able to acknowledge (subscriber) on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  count = local.dead_lettered ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[0].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent_email}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  count = local.dead_lettered ? 1 : 0

  project      = var.project_id
  subscription = google_pubsub_subscription.push[0].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.pubsub_service_agent_email}"
}
