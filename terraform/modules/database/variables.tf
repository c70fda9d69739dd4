variable "project_id" {
  description = "Project of the instance."
  type        = string
}

variable "region" {
  description = "Region of the instance (the functions' region)."
  type        = string
}

variable "name" {
  description = "Instance name. A deleted instance's name cannot be reused for about a week."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,78}[a-z0-9]$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "network_id" {
  description = "VPC id for the private IP; take it from the network module's private_services_network_id so the peering exists first."
  type        = string
}

variable "database_version" {
  description = "PostgreSQL version, e.g. POSTGRES_17."
  type        = string

  validation {
    condition     = can(regex("^POSTGRES_[0-9]+$", var.database_version))
    error_message = "database_version must look like POSTGRES_17."
  }
}

variable "edition" {
  description = "ENTERPRISE or ENTERPRISE_PLUS. Set explicitly: on POSTGRES_16+ an unset edition means ENTERPRISE_PLUS, which does not accept db-custom tiers."
  type        = string

  validation {
    condition     = contains(["ENTERPRISE", "ENTERPRISE_PLUS"], var.edition)
    error_message = "edition must be ENTERPRISE or ENTERPRISE_PLUS."
  }
}

variable "tier" {
  description = "Machine tier, e.g. db-custom-4-16384 (4 vCPU, 16 GiB) for ENTERPRISE."
  type        = string

  validation {
    condition     = startswith(var.tier, "db-")
    error_message = "tier must be a Cloud SQL tier name such as db-custom-4-16384."
  }
}

variable "availability_type" {
  description = "REGIONAL (high availability, a standby in a second zone, twice the cost) or ZONAL."
  type        = string

  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.availability_type)
    error_message = "availability_type must be REGIONAL or ZONAL."
  }
}

variable "disk_size_gb" {
  description = "Initial SSD size in GB; it grows automatically."
  type        = number

  validation {
    condition     = var.disk_size_gb >= 10
    error_message = "disk_size_gb must be at least 10."
  }
}

variable "max_connections" {
  description = "PostgreSQL max_connections; the catalogue module checks the functions' worst case against the same value."
  type        = number

  validation {
    condition     = var.max_connections >= 25 && var.max_connections <= 262143
    error_message = "max_connections must be between 25 and 262143."
  }
}

variable "database_name" {
  description = "Name of the application database (the functions' DB_NAME)."
  type        = string
}

variable "backup_start_time" {
  description = "Daily backup start, HH:MM in UTC."
  type        = string

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_start_time))
    error_message = "backup_start_time must be HH:MM (UTC)."
  }
}

variable "backup_retention_count" {
  description = "Number of daily backups kept."
  type        = number

  validation {
    condition     = var.backup_retention_count >= 1 && var.backup_retention_count <= 365
    error_message = "backup_retention_count must be 1-365."
  }
}

variable "pitr_log_retention_days" {
  description = "Days of write-ahead log kept for point-in-time recovery (1-7 on ENTERPRISE, up to 35 on ENTERPRISE_PLUS)."
  type        = number

  validation {
    condition     = var.pitr_log_retention_days >= 1 && var.pitr_log_retention_days <= 35
    error_message = "pitr_log_retention_days must be 1-35."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window: day 1 (Monday) to 7 (Sunday), hour 0-23 UTC."
  type = object({
    day  = number
    hour = number
  })

  validation {
    condition     = var.maintenance_window.day >= 1 && var.maintenance_window.day <= 7 && var.maintenance_window.hour >= 0 && var.maintenance_window.hour <= 23
    error_message = "maintenance_window.day must be 1-7 and hour 0-23."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance, both in Terraform and in the Cloud SQL API."
  type        = bool
  default     = true
}

variable "iam_service_accounts" {
  description = "Service account emails that get an IAM database user, keyed by a stable name (the function name)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for e in values(var.iam_service_accounts) : endswith(e, ".gserviceaccount.com")])
    error_message = "iam_service_accounts must hold service account emails."
  }
}

variable "labels" {
  description = "Labels on the instance."
  type        = map(string)
  default     = {}
}
