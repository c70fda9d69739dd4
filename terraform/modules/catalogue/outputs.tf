output "functions" {
  description = "Every catalogue function, merged with the defaults: name, source, entry_point, runtime, ingress, http, event_trigger ({pubsub_topic, schedule} or null), domain_events, dead_letter_after, paths, sizing, db_pool, secrets, project_roles."
  value       = local.functions

  precondition {
    condition     = length(local.problems) == 0
    error_message = "functions/catalogue.yaml is inconsistent; fix these entries:\n  - ${join("\n  - ", local.problems)}"
  }
}

output "public_routes" {
  description = "Public function name → URL-map path patterns, for the global external load balancer. Only functions with ingress \"public\"."
  value       = local.public_routes
}

output "internal_routes" {
  description = "Internal HTTP function name → URL-map path patterns, for the internal load balancer. Only functions with ingress \"internal\" and an HTTP trigger."
  value       = local.internal_routes
}

output "event_functions" {
  description = "Names of the functions triggered by Cloud Scheduler → Pub/Sub, with their topic and schedule."
  value       = { for name, fn in local.event_functions : name => fn.event_trigger }
}

output "domain_event_functions" {
  description = "Functions subscribed to the domain-events topic, with the delivery attempts before their messages go to <name>-dead-letter."
  value       = { for name, fn in local.domain_event_functions : name => { dead_letter_after = fn.dead_letter_after } }
}

output "sweeper_function" {
  description = "The validated sweeper function name (or null)."
  value       = var.sweeper_function
}

output "db_connection_budget" {
  description = "Worst-case Cloud SQL connections: per function (max_instances × (size + overflow)), their sum, the reserve and the limit."
  value = {
    per_function    = local.db_per_function
    worst_case      = local.db_worst_case
    reserved        = var.db_reserved_connections
    max_connections = var.db_max_connections
    headroom        = var.db_max_connections - var.db_reserved_connections - local.db_worst_case
  }
}
