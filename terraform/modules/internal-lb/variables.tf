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

variable "ssl_certificates" {
  description = "Self links of regional SSL certificates (google_compute_region_ssl_certificate) for HTTPS on 443; empty = HTTP on 80."
  type        = list(string)
  default     = []
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
