variable "project_id" {
  description = "Project of the instance."
  type        = string
}

variable "region" {
  description = "Region of the instance (the functions' region)."
  type        = string
}

variable "name" {
  description = "Instance id."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,61}[a-z0-9]$", var.name))
    error_message = "name must be 4-63 lowercase letters, digits and hyphens."
  }
}

variable "network_id" {
  description = "VPC for the PSC endpoints; take it from the network module's memorystore_network_id so the service connection policy exists first."
  type        = string
}

variable "node_type" {
  description = "Node size: SHARED_CORE_NANO, STANDARD_SMALL, HIGHMEM_MEDIUM or HIGHMEM_XLARGE. Scaling up is a configuration change."
  type        = string

  validation {
    condition     = contains(["SHARED_CORE_NANO", "STANDARD_SMALL", "HIGHMEM_MEDIUM", "HIGHMEM_XLARGE"], var.node_type)
    error_message = "node_type must be SHARED_CORE_NANO, STANDARD_SMALL, HIGHMEM_MEDIUM or HIGHMEM_XLARGE."
  }
}

variable "replica_count" {
  description = "Replicas of the primary, in other zones; 1 or more gives automatic failover."
  type        = number

  validation {
    condition     = var.replica_count >= 0 && var.replica_count <= 5
    error_message = "replica_count must be 0-5."
  }
}

variable "engine_version" {
  description = "Valkey version, e.g. VALKEY_8_0."
  type        = string

  validation {
    condition     = can(regex("^VALKEY_[0-9]+_[0-9]+$", var.engine_version))
    error_message = "engine_version must look like VALKEY_8_0."
  }
}

variable "maxmemory_policy" {
  description = "What Valkey does when memory is full. noeviction refuses writes (visible errors) instead of silently dropping presence or offer keys."
  type        = string

  validation {
    condition     = contains(["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"], var.maxmemory_policy)
    error_message = "maxmemory_policy must be a Valkey maxmemory-policy."
  }
}

variable "persistence_mode" {
  description = "DISABLED, RDB (hourly snapshots) or AOF. Presence and offers are short-lived; RDB shortens recovery after a full restart."
  type        = string

  validation {
    condition     = contains(["DISABLED", "RDB", "AOF"], var.persistence_mode)
    error_message = "persistence_mode must be DISABLED, RDB or AOF."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on the instance."
  type        = map(string)
  default     = {}
}

variable "transit_encryption_mode" {
  description = "SERVER_AUTHENTICATION (TLS; the functions verify the instance's managed CA) or TRANSIT_ENCRYPTION_DISABLED. Changing it replaces the instance."
  type        = string
  default     = "SERVER_AUTHENTICATION"

  validation {
    condition     = contains(["SERVER_AUTHENTICATION", "TRANSIT_ENCRYPTION_DISABLED"], var.transit_encryption_mode)
    error_message = "transit_encryption_mode must be SERVER_AUTHENTICATION or TRANSIT_ENCRYPTION_DISABLED."
  }
}
