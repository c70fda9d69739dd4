# Pub/Sub and Cloud Scheduler:
#   - the domain-events topic the functions publish to (EVENTS_TOPIC);
#   - per scheduled function, a topic and a Cloud Scheduler job publishing to it on the
#     catalogue's schedule; the function module's push subscription delivers that topic
#     to the function.

resource "google_pubsub_topic" "events" {
  # checkov:skip=CKV_GCP_83:Google-managed encryption; a customer-managed key adds a key ring to operate without a compliance requirement for it today.
  project                    = var.project_id
  name                       = var.events_topic_name
  labels                     = var.labels
  message_retention_duration = var.events_retention

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_topic" "scheduled" {
  # checkov:skip=CKV_GCP_83:Google-managed encryption; the ticks carry no data.
  for_each = var.scheduled

  project = var.project_id
  name    = each.value.pubsub_topic
  labels  = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_cloud_scheduler_job" "scheduled" {
  for_each = var.scheduled

  project     = var.project_id
  region      = var.region
  name        = "${each.key}-tick"
  description = "Publishes a tick to ${each.value.pubsub_topic}, which runs the ${each.key} function."
  schedule    = each.value.schedule
  time_zone   = "Etc/UTC"

  # A missed tick is covered by the next one a minute later; no retries.
  retry_config {
    retry_count = 0
  }

  # No attempt_deadline: it does not apply to Pub/Sub targets.
  pubsub_target {
    topic_name = google_pubsub_topic.scheduled[each.key].id
    data       = base64encode(jsonencode({ source = "cloud-scheduler", job = "${each.key}-tick" }))
  }
}
