output "ip_address" {
  description = "Internal address of the load balancer (reachable from the VPC and connected networks only)."
  value       = google_compute_address.this.address
}

output "url" {
  description = "Base URL of the admin entry point: HTTPS under the private DNS name."
  value       = "https://${var.hostname}"
}

output "hostname" {
  description = "Private DNS name of the admin entry point."
  value       = var.hostname
}

output "ca_certificate" {
  description = "PEM of the private root CA that signs the admin certificate; operators' machines must trust it."
  value       = google_privateca_certificate_authority.root.pem_ca_certificates
}

output "routes" {
  description = "Function → URL-map path patterns the internal load balancer routes to it."
  value       = { for name, b in var.backends : name => b.paths }
}
