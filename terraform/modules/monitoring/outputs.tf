output "notification_channels" {
  description = "Ids of the email notification channels every alert policy notifies."
  value       = local.channels
}

output "alert_policies" {
  description = "Alert policy key → display name (what fires, with its threshold)."
  value = merge(
    {
      error_ratio        = google_monitoring_alert_policy.error_ratio.display_name
      public_latency     = google_monitoring_alert_policy.public_latency.display_name
      sweeper_absent     = google_monitoring_alert_policy.sweeper_absent.display_name
      orphans            = google_monitoring_alert_policy.orphans.display_name
      no_bestie          = google_monitoring_alert_policy.no_bestie.display_name
      valkey_memory      = google_monitoring_alert_policy.valkey_memory.display_name
      valkey_connections = google_monitoring_alert_policy.valkey_connections.display_name
      db_connections     = google_monitoring_alert_policy.db_connections.display_name
      xendit_mismatch    = google_monitoring_alert_policy.xendit_mismatch.display_name
      uptime             = google_monitoring_alert_policy.uptime.display_name
    },
    { for p in google_monitoring_alert_policy.dead_letters : "dead_letters" => p.display_name },
  )
}

output "log_metrics" {
  description = "Log-based metric names (metric type logging.googleapis.com/user/<name>)."
  value       = concat([for m in google_logging_metric.counter : m.name], [for m in google_logging_metric.distribution : m.name], [google_logging_metric.public_latency.name])
}

output "dashboard_id" {
  description = "Id of the operations dashboard."
  value       = google_monitoring_dashboard.operations.id
}

output "uptime_check_id" {
  description = "Id of the public health uptime check."
  value       = google_monitoring_uptime_check_config.health.uptime_check_id
}
