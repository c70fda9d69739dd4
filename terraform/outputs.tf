# No output holds a secret value: secrets are written write-only and never enter state.

output "load_balancer_ip" {
  description = "Global IPv4 address of the public load balancer. Create a DNS A record for every domain pointing here; the managed certificate turns ACTIVE once they resolve."
  value       = module.public_lb.ip_address
}

output "api_base_urls" {
  description = "Public base URLs of the API, one per domain."
  value       = [for d in var.domains : "https://${d}"]
}

output "public_routes" {
  description = "Function → URL-map path patterns on the public load balancer (generated from the catalogue; nothing else is routed)."
  value       = module.public_lb.routes
}

output "admin_internal_url" {
  description = "Base URL of the admin function: https://<admin_lb.hostname> through the internal load balancer (HTTPS only); reachable only from the VPC and networks connected to it (VPN)."
  value       = module.internal_lb.url
}

output "admin_internal_ip" {
  description = "Internal address of the admin load balancer (the private zone's A record points here)."
  value       = module.internal_lb.ip_address
}

output "admin_ca_certificate" {
  description = "PEM of the private root CA behind the admin certificate: install it as trusted on operators' machines."
  value       = module.internal_lb.ca_certificate
}

output "function_uris" {
  description = "run.app URL of every function that still has one: only the event-triggered functions (Pub/Sub push; internal ingress, invoker check on). HTTP functions have default_uri_disabled and are reached only through the load balancers (null here)."
  value       = { for name, fn in module.function : name => fn.uri }
}

output "function_images" {
  description = "Container image (tag = source hash) each function runs."
  value       = { for name, fn in module.function : name => fn.image }
}

output "dead_letter_subscriptions" {
  description = "Function → pull subscription holding its dead-lettered events (inspect with gcloud pubsub subscriptions pull)."
  value       = { for name, fn in module.function : name => fn.dead_letter_subscription if fn.dead_letter_subscription != null }
}

output "function_service_accounts" {
  description = "Runtime service account of every function (its IAM database user is the email without .gserviceaccount.com)."
  value       = { for name, fn in module.function : name => fn.service_account_email }
}

output "cloud_sql_connection_name" {
  description = "project:region:instance of Cloud SQL (the functions' CLOUD_SQL_INSTANCE)."
  value       = module.database.connection_name
}

output "cloud_sql_private_ip" {
  description = "Private IP of Cloud SQL (it has no public IP)."
  value       = module.database.private_ip_address
}

output "cloud_sql_iam_users" {
  description = "PostgreSQL user names of the functions' IAM database users, for GRANT statements."
  value       = module.database.iam_users
}

output "valkey_url" {
  description = "VALKEY_URL of the functions (private address; not a secret)."
  value       = module.valkey.url
}

output "events_topic" {
  description = "Full name of the domain-events Pub/Sub topic."
  value       = module.messaging.events_topic_id
}

output "scheduler_jobs" {
  description = "Scheduled function → full Cloud Scheduler job name."
  value       = module.messaging.scheduler_job_ids
}

output "secret_names" {
  description = "Environment variable → Secret Manager secret name (values are never in state)."
  value       = module.secrets.secret_names
}

output "function_source_bucket" {
  description = "Bucket holding the functions' source archives."
  value       = google_storage_bucket.sources.name
}

output "db_connection_budget" {
  description = "Worst-case Cloud SQL connections per function, their sum, the reserve and max_connections (the plan fails if they do not fit)."
  value       = module.catalogue.db_connection_budget
}

output "alert_policies" {
  description = "Alert policies (key → display name with threshold); each notifies alert_emails and carries a runbook line."
  value       = module.monitoring.alert_policies
}

output "operations_dashboard" {
  description = "Id of the operations dashboard (Cloud Monitoring → Dashboards)."
  value       = module.monitoring.dashboard_id
}
