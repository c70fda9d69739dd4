variable "catalogue_file" {
  description = "Path to functions/catalogue.yaml, the single list of functions that the local gateway also reads."
  type        = string

  validation {
    condition     = fileexists(var.catalogue_file)
    error_message = "The function catalogue was not found at the given path; pass the path of functions/catalogue.yaml."
  }
}

variable "known_secrets" {
  description = "Environment variable names Terraform can fill from Secret Manager; a function may only ask for these in its `secrets` list."
  type        = list(string)
  default     = []
}

variable "sweeper_function" {
  description = "Name of the scheduled function whose Cloud Scheduler job the admin function reports on (sweeper health); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.sweeper_function == null || contains(keys(local.event_functions), coalesce(var.sweeper_function, "-"))
    error_message = "sweeper_function must name a catalogue function with a {pubsub_topic, schedule} trigger."
  }
}

variable "db_max_connections" {
  description = "Cloud SQL max_connections. The plan fails unless the functions' worst case (Σ max_instances × (pool size + overflow)) plus db_reserved_connections fits."
  type        = number

  validation {
    condition     = local.db_worst_case + var.db_reserved_connections <= var.db_max_connections
    error_message = "Connection budget exceeded: the functions can open ${local.db_worst_case} connections (${join(", ", local.db_budget_lines)}) plus ${var.db_reserved_connections} reserved, but Cloud SQL allows ${var.db_max_connections}. Lower max_instances or db_pool in functions/catalogue.yaml, or raise db_max_connections (and the Cloud SQL tier with it)."
  }
}

variable "db_reserved_connections" {
  description = "Connections kept free for humans, migrations and Cloud SQL's own superuser slots; counted against db_max_connections."
  type        = number
  default     = 20

  validation {
    condition     = var.db_reserved_connections >= 0
    error_message = "db_reserved_connections cannot be negative."
  }
}
