output "instance_id" {
  description = "Full instance id."
  value       = google_memorystore_instance.this.id
}

output "host" {
  description = "Private address of the primary endpoint."
  value       = local.primary.ip_address
}

output "port" {
  description = "Port of the primary endpoint."
  value       = local.primary.port
}

output "url" {
  description = "The functions' VALKEY_URL (database 0): rediss:// with in-transit encryption. Not secret: the address is private and the instance is reachable only from the VPC."
  value       = "${local.tls ? "rediss" : "redis"}://${local.primary.ip_address}:${local.primary.port}/0"
}

output "ca_pem" {
  description = "PEM of the instance's server CA certificates (the functions' VALKEY_CA_PEM); empty without in-transit encryption. Not secret: a CA certificate is public."
  value       = join("\n", local.ca_certificates)
}
