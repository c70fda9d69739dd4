output "name" {
  description = "Function name."
  value       = google_cloud_run_v2_service.this.name
}

output "service_name" {
  description = "Name of the Cloud Run service (the function's name), for serverless NEGs and IAM bindings."
  value       = google_cloud_run_v2_service.this.name
}

output "uri" {
  description = "The service's run.app URL, or null when default_uri_disabled (HTTP functions: reached only through a load balancer). Event-triggered functions keep it for Pub/Sub push, behind internal ingress and the invoker check."
  value       = local.default_uri_disabled ? null : google_cloud_run_v2_service.this.uri
}

output "image" {
  description = "Container image the service runs (built from the source archive by Cloud Build)."
  value       = terraform_data.image.output
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
  description = "gs:// path of the deployed source archive (build_config.source_location)."
  value       = local.source_location
}

output "push_subscription" {
  description = "Name of the Pub/Sub push subscription that delivers events to this function (null for HTTP functions)."
  value       = one(google_pubsub_subscription.push[*].name)
}

output "dead_letter_topic" {
  description = "Name of the function's dead-letter topic (<name>-dead-letter), or null."
  value       = one(google_pubsub_topic.dead_letter[*].name)
}

output "dead_letter_subscription" {
  description = "Pull subscription holding dead-lettered messages for inspection, or null."
  value       = one(google_pubsub_subscription.dead_letter[*].name)
}
