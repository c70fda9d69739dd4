# On-call: log-based metrics on the application's signals, alert policies that each say what
# to do, an uptime check of the public health route, and one operations dashboard.
#
# The application writes countable signals as JSON log lines with a top-level `event` field
# (shared.log.log_event): pairing_outcome, orphan_detected, orphan_handled, sweeper_run,
# xendit_webhook, payment_reconciled, session_timeout, push_send. Log-based metrics count
# them without an SDK on the hot path.

locals {
  metric_prefix = "logging.googleapis.com/user/${var.name_prefix}_"
  channels      = [for c in google_monitoring_notification_channel.email : c.id]
  t             = var.thresholds

  # Counter metrics: signal → labels copied from the log line.
  counters = {
    pairing_outcome    = ["outcome"]
    orphan_detected    = []
    orphan_handled     = ["action"]
    sweeper_run        = ["outcome"]
    xendit_webhook     = ["outcome"]
    payment_reconciled = ["outcome"]
    session_timeout    = []
    push_send          = ["outcome"]
  }

  # Distribution metrics: name → {signal, field, extra filter, unit}.
  distributions = {
    time_to_match_ms = { event = "pairing_outcome", field = "time_to_match_ms", filter = "AND jsonPayload.outcome=\"matched\"", unit = "ms" }
    sweeper_ms       = { event = "sweeper_run", field = "duration_ms", filter = "", unit = "ms" }
  }

  http_services = join(", ", [for s in var.http_functions : "\"${s}\""])
  dl_subs       = join(", ", [for s in var.dead_letter_subscriptions : "\"${s}\""])
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.project_id
  display_name = "On-call ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

# ---------------------------------------------------------------------------------------
# Log-based metrics
# ---------------------------------------------------------------------------------------

resource "google_logging_metric" "counter" {
  for_each = local.counters

  project     = var.project_id
  name        = "${var.name_prefix}_${each.key}"
  description = "Count of `${each.key}` log signals from the functions."
  filter      = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"${each.key}\""

  label_extractors = { for l in each.value : l => "EXTRACT(jsonPayload.${l})" }

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    dynamic "labels" {
      for_each = toset(each.value)
      content {
        key         = labels.value
        value_type  = "STRING"
        description = "The signal's ${labels.value} field."
      }
    }
  }
}

resource "google_logging_metric" "distribution" {
  for_each = local.distributions

  project         = var.project_id
  name            = "${var.name_prefix}_${each.key}"
  description     = "Distribution of ${each.value.field} from `${each.value.event}` log signals."
  filter          = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"${each.value.event}\" ${each.value.filter}"
  value_extractor = "EXTRACT(jsonPayload.${each.value.field})"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = each.value.unit
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.4
      scale              = 1
    }
  }
}

# Latency of the public routes as the load balancer saw it, streams left out (their latency
# is their lifetime). From the load balancer's request log, which is sampled
# (lb_log_sample_rate): enough for a p99, at a tenth of the logging cost.
resource "google_logging_metric" "public_latency" {
  project         = var.project_id
  name            = "${var.name_prefix}_public_latency"
  description     = "Latency of public API requests through the load balancer, event streams excluded."
  filter          = "resource.type=\"http_load_balancer\" AND resource.labels.url_map_name=\"${var.public_url_map}\" AND NOT httpRequest.requestUrl=~\"${var.stream_path_regex}\""
  value_extractor = "REGEXP_EXTRACT(httpRequest.latency, \"([0-9.]+)s\")"

  label_extractors = {
    backend = "EXTRACT(resource.labels.backend_service_name)"
  }

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "s"

    labels {
      key         = "backend"
      value_type  = "STRING"
      description = "Backend service (one per public function)."
    }
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.4
      scale              = 0.001
    }
  }
}

# ---------------------------------------------------------------------------------------
# Uptime check: the public health route through the load balancer
# ---------------------------------------------------------------------------------------

resource "google_monitoring_uptime_check_config" "health" {
  project      = var.project_id
  display_name = "${var.name_prefix} public health (${var.uptime_host}${var.health_path})"
  timeout      = "10s"
  period       = "60s"
  checker_type = "STATIC_IP_CHECKERS"

  http_check {
    path           = var.health_path
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"

    accepted_response_status_codes {
      status_value = 200
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.uptime_host
    }
  }
}

# ---------------------------------------------------------------------------------------
# Alert policies: every one notifies the channels and carries a runbook line
# ---------------------------------------------------------------------------------------

resource "google_monitoring_alert_policy" "error_ratio" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: 5xx ratio per function above ${local.t.error_ratio * 100} %"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "5xx / all requests per function, 5 min"
    condition_threshold {
      filter             = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.label.response_code_class=\"5xx\" AND resource.label.service_name=one_of(${local.http_services})"
      denominator_filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=one_of(${local.http_services})"
      comparison         = "COMPARISON_GT"
      threshold_value    = local.t.error_ratio
      duration           = "60s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: open the function's logs (Cloud Run → service → Logs, severity ≥ ERROR) and find the exception; if it started with a deploy, roll back by re-applying the previous commit (the image of each commit is kept in Artifact Registry); if Cloud SQL or Valkey errors dominate, check their alerts first."
  }
}

resource "google_monitoring_alert_policy" "public_latency" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: p99 latency of public routes above ${local.t.public_latency_p99_s} s"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.channels

  conditions {
    display_name = "p99 load-balancer latency per backend (streams excluded), 5 min"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_prefix}public_latency\" AND resource.type=\"http_load_balancer\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.t.public_latency_p99_s
      duration        = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_99"
        group_by_fields      = ["metric.label.backend"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: on the operations dashboard compare the slow backend with Cloud SQL connections and Valkey CPU/memory; if instances are at max_instances raise sizing in functions/catalogue.yaml (mind the connection budget); if one route is slow, read its request logs (Logs Explorer, resource http_load_balancer) for the path."
  }

  depends_on = [google_logging_metric.public_latency]
}

resource "google_monitoring_alert_policy" "sweeper_absent" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: presence sweeper has not completed a run for ${local.t.sweeper_absent_s / 60} min"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels

  conditions {
    display_name = "no sweeper_run with outcome ok"
    condition_absent {
      filter   = "metric.type=\"${local.metric_prefix}sweeper_run\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=\"ok\""
      duration = "${local.t.sweeper_absent_s}s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: stale mitras stay 'online' and capacity is not freed. Check the Cloud Scheduler job presence-sweeper-tick (paused? failing?), the presence-sweeper-push subscription (undelivered messages, push errors) and the presence-sweeper service logs (outcome=failed lines, Cloud SQL/Valkey errors). Run the job now with `gcloud scheduler jobs run presence-sweeper-tick --location=<region>`."
  }

  depends_on = [google_logging_metric.counter]
}

resource "google_monitoring_alert_policy" "orphans" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: orphaned sessions older than the grace period"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "orphan_detected signals, 5 min"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_prefix}orphan_detected\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.t.orphans_per_5m
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: a session outlived its grace period with nobody attached (a client may be waiting for a bestie who left). Open the control center's live dashboard: the orphan appears with its session id; end or reroute the session there, then check whether orphan_handled followed (logs: jsonPayload.event=\"orphan_handled\")."
  }

  depends_on = [google_logging_metric.counter]
}

resource "google_monitoring_alert_policy" "no_bestie" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: no-bestie rate above ${local.t.no_bestie_ratio * 100} % over 15 min"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.channels

  conditions {
    display_name = "no_bestie / (matched + no_bestie + expired), 15 min"
    condition_threshold {
      filter             = "metric.type=\"${local.metric_prefix}pairing_outcome\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=\"no_bestie\""
      denominator_filter = "metric.type=\"${local.metric_prefix}pairing_outcome\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=one_of(\"matched\", \"no_bestie\", \"expired\")"
      comparison         = "COMPARISON_GT"
      threshold_value    = local.t.no_bestie_ratio
      duration           = "0s"

      aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "900s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: clients are asking and too few besties are available. Check online mitras on the control center dashboard; ask the mitra community coordinators to go online; if mitras are online but not matched, check pairing 5xx and the sweeper alert (stale presence)."
  }

  depends_on = [google_logging_metric.counter]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  # No dead-lettering function, no policy (one_of() needs at least one subscription).
  count = length(var.dead_letter_subscriptions) > 0 ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name_prefix}: Pub/Sub messages dead-lettered"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "messages moved to a dead-letter topic, 5 min"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=one_of(${local.dl_subs})"
      comparison      = "COMPARISON_GT"
      threshold_value = local.t.dead_letters_per_5m
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.subscription_id"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: a domain event failed every delivery attempt (e.g. the notifier could not push). Read it with `gcloud pubsub subscriptions pull <function>-dead-letter --limit=10` (no auto-ack), find the cause in the function's logs for that event id, fix, then republish the payload to the events topic or acknowledge it if it is obsolete."
  }
}

resource "google_monitoring_alert_policy" "valkey_memory" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: Valkey memory above ${local.t.valkey_memory_ratio * 100} %"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "memory/maximum_utilization (busiest node)"
    condition_threshold {
      filter          = "metric.type=\"memorystore.googleapis.com/instance/memory/maximum_utilization\" AND resource.type=\"memorystore.googleapis.com/Instance\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.t.valkey_memory_ratio
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: with maxmemory-policy noeviction, writes (heartbeats, pairing) start failing when memory is full. Look for key growth (keys without TTL) in the Valkey stats; scale the node type up (valkey.node_type) — Memorystore recommends staying below 80 %."
  }
}

resource "google_monitoring_alert_policy" "valkey_connections" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: Valkey connections above ${local.t.valkey_connections_ratio * 100} % of maxclients"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "clients/maximum_connected_clients (busiest node) vs ${local.t.valkey_max_clients}"
    condition_threshold {
      filter          = "metric.type=\"memorystore.googleapis.com/instance/clients/maximum_connected_clients\" AND resource.type=\"memorystore.googleapis.com/Instance\""
      comparison      = "COMPARISON_GT"
      threshold_value = floor(local.t.valkey_connections_ratio * local.t.valkey_max_clients)
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: every function instance holds a redis-py pool (plus one pub/sub connection per pairing instance). Check which function scaled out (instance counts on the dashboard); lower its max_instances in functions/catalogue.yaml or raise maxclients / the node type before new connections are refused."
  }
}

resource "google_monitoring_alert_policy" "db_connections" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: Cloud SQL connections above ${local.t.db_connections_ratio * 100} % of max_connections"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.channels

  conditions {
    display_name = "postgresql/num_backends vs ${var.db_max_connections}"
    condition_threshold {
      filter          = "metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\" AND resource.type=\"cloudsql_database\" AND resource.label.database_id=\"${var.cloud_sql_database_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = floor(local.t.db_connections_ratio * var.db_max_connections)
      duration        = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.database_id"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: the functions' pools are near the budget Terraform enforces (output db_connection_budget). Find who holds them (`SELECT usename, count(*) FROM pg_stat_activity GROUP BY 1`); cap the scaling function's max_instances or db_pool in functions/catalogue.yaml, or raise db_max_connections with a larger tier."
  }
}

resource "google_monitoring_alert_policy" "xendit_mismatch" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: Xendit webhook mismatches"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels

  conditions {
    display_name = "xendit_webhook outcome=mismatch, 5 min"
    condition_threshold {
      filter          = "metric.type=\"${local.metric_prefix}xendit_webhook\" AND resource.type=\"cloud_run_revision\" AND metric.label.outcome=\"mismatch\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.t.xendit_mismatches_per_5m
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: a paid invoice did not match our payment (amount or reference); nothing was credited. List it in the control center (payments, webhook outcome mismatch), compare with the Xendit dashboard, then grant or refund with a credits adjustment (superadmin, reason required). Repeated mismatches from unknown senders mean the callback token may have leaked: rotate it (README: Day 2)."
  }

  depends_on = [google_logging_metric.counter]
}

resource "google_monitoring_alert_policy" "uptime" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: public health check failing"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels

  conditions {
    display_name = "uptime check ${var.health_path} failing from more than one region"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.health.uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "60s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.host"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Runbook: the public API is unreachable from the internet. Check the load balancer (certificate ACTIVE? forwarding rules present?), the auth function's status and logs, and Cloud Armor (a rule change denying everyone?). Status codes from the check are in the uptime check's details."
  }
}

# ---------------------------------------------------------------------------------------
# Operations dashboard
# ---------------------------------------------------------------------------------------

locals {
  tiles = [
    { title = "5xx per function (req/s)", filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.label.response_code_class=\"5xx\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group = ["resource.label.service_name"] },
    { title = "Requests per function (req/s)", filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group = ["resource.label.service_name"] },
    { title = "p99 public latency, streams excluded (s)", filter = "metric.type=\"${local.metric_prefix}public_latency\" AND resource.type=\"http_load_balancer\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group = ["metric.label.backend"] },
    { title = "Instances per function", filter = "metric.type=\"run.googleapis.com/container/instance_count\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group = ["resource.label.service_name"] },
    { title = "Pairing outcomes", filter = "metric.type=\"${local.metric_prefix}pairing_outcome\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
    { title = "Time to match p99 (ms)", filter = "metric.type=\"${local.metric_prefix}time_to_match_ms\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group = [] },
    { title = "Sweeper runs by outcome", filter = "metric.type=\"${local.metric_prefix}sweeper_run\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
    { title = "Sweeper duration p99 (ms)", filter = "metric.type=\"${local.metric_prefix}sweeper_ms\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group = [] },
    { title = "Orphans detected", filter = "metric.type=\"${local.metric_prefix}orphan_detected\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = [] },
    { title = "Orphans handled by action", filter = "metric.type=\"${local.metric_prefix}orphan_handled\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.action"] },
    { title = "Xendit webhooks by outcome", filter = "metric.type=\"${local.metric_prefix}xendit_webhook\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
    { title = "Payments reconciled by outcome", filter = "metric.type=\"${local.metric_prefix}payment_reconciled\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
    { title = "Pushes by outcome", filter = "metric.type=\"${local.metric_prefix}push_send\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["metric.label.outcome"] },
    { title = "Dead-lettered messages", filter = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = ["resource.label.subscription_id"] },
    { title = "Cloud SQL connections (budget ${var.db_max_connections})", filter = "metric.type=\"cloudsql.googleapis.com/database/postgresql/num_backends\" AND resource.type=\"cloudsql_database\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group = ["resource.label.database_id"] },
    { title = "Valkey memory utilization (busiest node)", filter = "metric.type=\"memorystore.googleapis.com/instance/memory/maximum_utilization\" AND resource.type=\"memorystore.googleapis.com/Instance\"", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group = [] },
    { title = "Valkey connected clients (busiest node)", filter = "metric.type=\"memorystore.googleapis.com/instance/clients/maximum_connected_clients\" AND resource.type=\"memorystore.googleapis.com/Instance\"", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group = [] },
    { title = "Sessions ended by time limit", filter = "metric.type=\"${local.metric_prefix}session_timeout\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group = [] },
    { title = "Public health check", filter = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\"", aligner = "ALIGN_FRACTION_TRUE", reducer = "REDUCE_MEAN", group = [] },
  ]

  dashboard = {
    displayName = "${var.name_prefix} operations"
    mosaicLayout = {
      columns = 12
      tiles = [
        for i, tile in local.tiles : {
          xPos   = (i % 2) * 6
          yPos   = floor(i / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = tile.title
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = tile.filter
                    aggregation = {
                      alignmentPeriod    = "60s"
                      perSeriesAligner   = tile.aligner
                      crossSeriesReducer = tile.reducer
                      groupByFields      = tile.group
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  }
}

resource "google_monitoring_dashboard" "operations" {
  project        = var.project_id
  dashboard_json = jsonencode(local.dashboard)

  depends_on = [google_logging_metric.counter, google_logging_metric.distribution, google_logging_metric.public_latency]
}
