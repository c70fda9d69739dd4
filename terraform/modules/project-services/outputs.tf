output "project_id" {
  description = "The project id, available only once every API is enabled: use it instead of var.project_id to order resources after the APIs."
  value       = var.project_id
  depends_on  = [google_project_service.this]
}

output "enabled_services" {
  description = "The APIs this module enabled."
  value       = sort(keys(google_project_service.this))
}
