variable "project_id" {
  description = "Project of the load balancer."
  type        = string
}

variable "region" {
  description = "Region of the load balancer, the functions and their clients' entry point."
  type        = string
}

variable "name" {
  description = "Prefix of every load-balancer resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,28}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase resource name of at most 30 characters."
  }
}

variable "network_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "subnetwork_id" {
  description = "Subnet the load balancer's address is taken from; use the network module's internal_lb_subnet_id (it waits for the proxy-only subnet)."
  type        = string
}

variable "backends" {
  description = "Internal HTTP function name → {service: its Cloud Run service name, paths: its URL-map path patterns}. Generated from the catalogue."
  type = map(object({
    service = string
    paths   = list(string)
  }))

  validation {
    condition     = length(var.backends) >= 1
    error_message = "At least one internal backend is needed."
  }

  validation {
    condition = alltrue(flatten([
      for b in values(var.backends) : [
        for p in b.paths : startswith(p, "/") && (!strcontains(p, "*") || (endswith(p, "/*") && length(regexall("\\*", p)) == 1))
      ]
    ]))
    error_message = "Every path must start with \"/\"; \"*\" is allowed only as a final \"/*\"."
  }
}

variable "hostname" {
  description = "Private DNS name of the admin entry point, e.g. admin.halo.internal. Its parent (halo.internal) becomes a Cloud DNS private zone; the certificate is issued for exactly this name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.hostname)) && length(split(".", var.hostname)) >= 3
    error_message = "hostname must be a lowercase DNS name with at least three labels (host.zone.tld), e.g. admin.halo.internal."
  }
}

variable "project_number" {
  description = "Project number (names Certificate Manager's service agent, which requests certificates from the CA pool)."
  type        = string
}

variable "enable_inbound_dns_policy" {
  description = "Create a Cloud DNS inbound server policy on the VPC, so resolvers on the operators' VPN can forward the private zone into it. Turn off if the VPC already has a DNS policy (one per network)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Deletion protection of the private root CA."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on the CA, certificate and DNS zone."
  type        = map(string)
  default     = {}
}

variable "allow_global_access" {
  description = "Allow clients in other regions of the VPC (e.g. a VPN gateway elsewhere) to reach the load balancer."
  type        = bool
  default     = false
}

variable "log_sample_rate" {
  description = "Share of requests written to the load balancer's request log (0-1)."
  type        = number
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}
