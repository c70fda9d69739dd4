output "network_id" {
  description = "Id of the VPC (projects/P/global/networks/N)."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "Name of the VPC."
  value       = google_compute_network.this.name
}

output "functions_subnet_id" {
  description = "Id of the Direct VPC egress subnet of the functions."
  value       = google_compute_subnetwork.functions.id
}

output "functions_subnet_name" {
  description = "Name of the Direct VPC egress subnet of the functions."
  value       = google_compute_subnetwork.functions.name
}

output "private_subnet_id" {
  description = "Id of the private subnet: address of the internal load balancer."
  value       = google_compute_subnetwork.private.id
}

output "private_services_network_id" {
  description = "The VPC id, available only once the private services access peering exists: Cloud SQL's private_network."
  value       = google_compute_network.this.id
  depends_on  = [google_service_networking_connection.private_services]
}

output "memorystore_network_id" {
  description = "The VPC id, available only once Memorystore's service connection policy exists."
  value       = google_compute_network.this.id
  depends_on  = [google_network_connectivity_service_connection_policy.memorystore]
}

output "internal_lb_subnet_id" {
  description = "The private subnet id, available only once the proxy-only subnet exists (an internal Application Load Balancer needs it first)."
  value       = google_compute_subnetwork.private.id
  depends_on  = [google_compute_subnetwork.proxy_only]
}
