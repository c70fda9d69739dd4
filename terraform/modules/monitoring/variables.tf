variable "project_id" {
  description = "Project whose metrics are watched and where the policies live."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the log-based metric names (<prefix>_<signal>) and display names."
  type        = string
}

variable "alert_emails" {
  description = "Email addresses notified by every alert policy (one notification channel each)."
  type        = list(string)

  validation {
    condition     = length(var.alert_emails) >= 1 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails needs at least one valid email address: an alert nobody receives is no alert."
  }
}

variable "http_functions" {
  description = "Cloud Run service names of the HTTP functions (5xx ratio per function)."
  type        = list(string)
}

variable "public_url_map" {
  description = "Name of the public load balancer's HTTPS URL map (its request logs feed the public latency metric)."
  type        = string
}

variable "dead_letter_subscriptions" {
  description = "Push subscriptions that dead-letter (their dead_letter_message_count is alerted on)."
  type        = list(string)
  default     = []
}

variable "cloud_sql_database_id" {
  description = "Cloud SQL instance as project:instance (the cloudsql_database resource's database_id)."
  type        = string
}

variable "db_max_connections" {
  description = "Cloud SQL max_connections: the connection budget the 80 % alert is measured against."
  type        = number
}

variable "uptime_host" {
  description = "Public host name the uptime check calls over HTTPS (the public load balancer)."
  type        = string
}

variable "health_path" {
  description = "Cheap public health route the uptime check calls."
  type        = string
  default     = "/api/shared/health"
}

variable "stream_path_regex" {
  description = "RE2 of request paths that are long-lived event streams (SSE); they are left out of the public latency figure, whose p99 would otherwise be the stream lifetime."
  type        = string
  default     = "/api/(client|mitra)/events"
}

variable "thresholds" {
  description = "Alert thresholds (see README: Alerts)."
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

  validation {
    condition = alltrue([
      for r in [var.thresholds.error_ratio, var.thresholds.no_bestie_ratio, var.thresholds.valkey_memory_ratio, var.thresholds.valkey_connections_ratio, var.thresholds.db_connections_ratio] : r > 0 && r <= 1
    ])
    error_message = "Ratio thresholds must be in (0, 1]."
  }

  validation {
    condition     = var.thresholds.sweeper_absent_s >= 120 && var.thresholds.public_latency_p99_s > 0 && var.thresholds.valkey_max_clients >= 1
    error_message = "sweeper_absent_s must be at least 120 (Cloud Monitoring's shortest absence window); latency and max clients must be positive."
  }
}
