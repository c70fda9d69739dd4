output "ip_address" {
  description = "The load balancer's global IPv4 address: point every domain's DNS A record here."
  value       = google_compute_global_address.this.address
}

output "certificate_name" {
  description = "Name of the Google-managed certificate (ACTIVE once DNS points at ip_address)."
  value       = google_compute_managed_ssl_certificate.this.name
}

output "url_map_id" {
  description = "Id of the HTTPS URL map."
  value       = google_compute_url_map.https.id
}

output "security_policy_id" {
  description = "Id of the Cloud Armor policy on every backend."
  value       = google_compute_security_policy.this.id
}

output "routes" {
  description = "Function → URL-map path patterns the load balancer routes to it."
  value       = { for name, b in var.backends : name => b.paths }
}

output "url_map_name" {
  description = "Name of the HTTPS URL map (the resource label of its request logs and metrics)."
  value       = google_compute_url_map.https.name
}
