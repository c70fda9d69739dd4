variable "project_id" {
  description = "Project of the load balancer."
  type        = string
}

variable "region" {
  description = "Region of the functions (serverless NEGs are regional)."
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

variable "domains" {
  description = "Public host names of the API (Google-managed certificate; each needs a DNS A record to the load balancer's IP)."
  type        = list(string)

  validation {
    condition     = length(var.domains) >= 1 && length(var.domains) <= 100 && alltrue([for d in var.domains : can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", d))])
    error_message = "domains must be 1-100 lowercase fully-qualified host names (no wildcards: managed certificates do not cover them)."
  }
}

variable "backends" {
  description = "Public function name → {service: its Cloud Run service name, paths: its URL-map path patterns}. Generated from the catalogue; nothing else is routed."
  type = map(object({
    service = string
    paths   = list(string)
  }))

  validation {
    condition     = length(var.backends) >= 1
    error_message = "At least one public backend is needed."
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

variable "rate_limit" {
  description = "Per-client-IP rate limit of the public API (Cloud Armor throttle). Mobile carriers put many users behind one IP (CGNAT), so keep it generous."
  type = object({
    requests     = number
    interval_sec = number
  })

  validation {
    condition     = var.rate_limit.requests >= 1 && contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.rate_limit.interval_sec)
    error_message = "rate_limit.requests must be at least 1 and interval_sec one of Cloud Armor's intervals (10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600)."
  }
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
