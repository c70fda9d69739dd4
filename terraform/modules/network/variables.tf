variable "project_id" {
  description = "Project that owns the network."
  type        = string
}

variable "region" {
  description = "Region of the subnets (the functions' region)."
  type        = string
}

variable "name" {
  description = "Name of the VPC; subnets and addresses are named after it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase resource name of at most 42 characters."
  }
}

variable "functions_cidr" {
  description = "Range of the Direct VPC egress subnet. Cloud Run uses about two addresses per instance: a /20 holds ten times today's maximum."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.functions_cidr)) && tonumber(split("/", var.functions_cidr)[1]) <= 26
    error_message = "functions_cidr must be an IPv4 CIDR range of /26 or larger."
  }
}

variable "private_cidr" {
  description = "Range of the private subnet (internal load balancer address, Memorystore endpoints, operations VMs)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.private_cidr)) && tonumber(split("/", var.private_cidr)[1]) <= 28
    error_message = "private_cidr must be an IPv4 CIDR range of /28 or larger."
  }
}

variable "proxy_only_cidr" {
  description = "Range of the proxy-only subnet of the internal Application Load Balancer (Google recommends /23)."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.proxy_only_cidr)) && tonumber(split("/", var.proxy_only_cidr)[1]) <= 26
    error_message = "proxy_only_cidr must be an IPv4 CIDR range of /26 or larger."
  }
}

variable "private_services_address" {
  description = "First address of the private services access range (Cloud SQL); null lets Google pick a free range."
  type        = string
  default     = null

  validation {
    condition     = var.private_services_address == null || can(cidrhost("${coalesce(var.private_services_address, "0.0.0.0")}/32", 0))
    error_message = "private_services_address must be an IPv4 address or null."
  }
}

variable "private_services_prefix_length" {
  description = "Prefix length of the private services access range; /20 leaves room for replicas and other Google services."
  type        = number
  default     = 20

  validation {
    condition     = var.private_services_prefix_length >= 8 && var.private_services_prefix_length <= 24
    error_message = "private_services_prefix_length must be between 8 and 24."
  }
}

variable "flow_log_sampling" {
  description = "Share of flows written to VPC flow logs (0-1); flow logs are billed per GB."
  type        = number
  default     = 0.1

  validation {
    condition     = var.flow_log_sampling > 0 && var.flow_log_sampling <= 1
    error_message = "flow_log_sampling must be in (0, 1]."
  }
}
