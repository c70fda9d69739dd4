output "instance_name" {
  description = "Instance name."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "project:region:instance, the functions' CLOUD_SQL_INSTANCE for the Cloud SQL Python Connector."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip_address" {
  description = "The instance's private IP in the VPC (no public IP exists)."
  value       = google_sql_database_instance.this.private_ip_address
}

output "database_name" {
  description = "The application database."
  value       = google_sql_database.this.name
}

output "iam_users" {
  description = "PostgreSQL user names of the IAM database users, keyed like iam_service_accounts."
  value       = { for k, u in google_sql_user.iam : k => u.name }
}
