output "ip_address" {
  description = "Internal address of the load balancer (reachable from the VPC and connected networks only)."
  value       = google_compute_address.this.address
}

output "url" {
  description = "Base URL of the internal load balancer."
  value       = "${local.tls ? "https" : "http"}://${google_compute_address.this.address}"
}

output "routes" {
  description = "Function → URL-map path patterns the internal load balancer routes to it."
  value       = { for name, b in var.backends : name => b.paths }
}
