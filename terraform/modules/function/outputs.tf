output "name" {
  description = "Function name."
  value       = google_cloudfunctions2_function.this.name
}

output "service_name" {
  description = "Name of the Cloud Run service behind the function (the function's name), for serverless NEGs and run.invoker bindings."
  value       = google_cloudfunctions2_function.this.name
}

output "uri" {
  description = "The function's run.app URL. Reachable only as its ingress allows: never from the internet."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}

output "service_account_email" {
  description = "Runtime service account (also the IAM database user, minus .gserviceaccount.com)."
  value       = google_service_account.runtime.email
}

output "db_iam_user" {
  description = "PostgreSQL user name of the runtime service account (DB_IAM_USER)."
  value       = local.db_iam_user
}

output "source_object" {
  description = "gs:// path of the deployed source archive."
  value       = "gs://${var.source_bucket}/${google_storage_bucket_object.source.name}"
}
