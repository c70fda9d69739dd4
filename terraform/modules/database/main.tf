# Cloud SQL for PostgreSQL: private IP only, automated backups with point-in-time recovery,
# deletion protection, and IAM database authentication for the functions' service accounts
# (the Cloud SQL Python Connector logs in as the service account; there are no passwords).

locals {
  # Logging flags: connections, lock waits and slow checkpoints are what an incident needs;
  # pgaudit records DDL and role changes.
  logging_flags = {
    "log_checkpoints"            = "on"
    "log_connections"            = "on"
    "log_disconnections"         = "on"
    "log_lock_waits"             = "on"
    "log_min_messages"           = "error"
    "log_min_error_statement"    = "error"
    "log_temp_files"             = "0"
    "log_min_duration_statement" = "-1"
    "log_statement"              = "ddl"
    "cloudsql.enable_pgaudit"    = "on"
    "pgaudit.log"                = "ddl,role"
  }

  flags = merge(local.logging_flags, {
    "cloudsql.iam_authentication" = "on"
    "max_connections"             = tostring(var.max_connections)
  })
}

resource "google_sql_database_instance" "this" {
  # checkov:skip=CKV_GCP_108:log_hostname makes PostgreSQL do a reverse DNS lookup for every new connection, which slows scale-out; log_connections already records the client address.
  # checkov:skip=CKV_GCP_79:The PostgreSQL major version is a variable (default POSTGRES_17); checkov pins one version and would fail on the next upgrade.
  project             = var.project_id
  name                = var.name
  region              = var.region
  database_version    = var.database_version
  deletion_protection = var.deletion_protection

  settings {
    tier                        = var.tier
    edition                     = var.edition
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = var.labels

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      # The Cloud SQL Python Connector always presents a client certificate (mutual TLS),
      # so requiring one rejects only clients that bypass the connector.
      ssl_mode = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = var.backup_start_time
      transaction_log_retention_days = var.pitr_log_retention_days

      backup_retention_settings {
        retained_backups = var.backup_retention_count
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = var.maintenance_window.day
      hour         = var.maintenance_window.hour
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = true
      record_client_address   = true
    }

    dynamic "database_flags" {
      for_each = local.flags
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}

resource "google_sql_database" "this" {
  project  = var.project_id
  name     = var.database_name
  instance = google_sql_database_instance.this.name
}

# One IAM database user per function service account. PostgreSQL user name = the service
# account email without ".gserviceaccount.com" (what the functions get as DB_IAM_USER).
resource "google_sql_user" "iam" {
  for_each = var.iam_service_accounts

  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = trimsuffix(each.value, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}
