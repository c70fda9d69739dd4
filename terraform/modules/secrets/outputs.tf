output "env_secrets" {
  description = "Environment variable name → {secret (short name), secret_id (full id), version}: what a function's secret_environment_variables need. Names and version numbers only, no values."
  value = {
    for env, _ in local.secrets : env => {
      secret    = google_secret_manager_secret.this[env].secret_id
      secret_id = google_secret_manager_secret.this[env].id
      version   = local.versions[env]
    }
  }
}

output "secret_names" {
  description = "Environment variable name → Secret Manager secret name (for gcloud)."
  value       = { for env, s in google_secret_manager_secret.this : env => s.secret_id }
}
