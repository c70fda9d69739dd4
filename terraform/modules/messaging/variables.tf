variable "project_id" {
  description = "Project of the topics and jobs."
  type        = string
}

variable "region" {
  description = "Region of the Scheduler jobs and the only region messages are stored in."
  type        = string
}

variable "events_topic_name" {
  description = "Name of the domain-events topic."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][-a-zA-Z0-9._~%+]{2,254}$", var.events_topic_name)) && !startswith(lower(var.events_topic_name), "goog")
    error_message = "events_topic_name must be a valid Pub/Sub topic name (3-255 characters, starting with a letter, not \"goog\")."
  }
}

variable "events_retention" {
  description = "How long the events topic keeps messages, so a subscription added later can replay them (e.g. \"604800s\" = 7 days)."
  type        = string
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.events_retention))
    error_message = "events_retention must be a duration in seconds such as \"604800s\"."
  }
}

variable "scheduled" {
  description = "Scheduled functions from the catalogue: function name → {pubsub_topic, schedule (cron, UTC)}."
  type = map(object({
    pubsub_topic = string
    schedule     = string
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.scheduled) : length(split(" ", s.schedule)) == 5])
    error_message = "Every schedule must be a five-field cron expression; Cloud Scheduler's finest is \"* * * * *\" (every minute)."
  }
}

variable "labels" {
  description = "Labels on the topics."
  type        = map(string)
  default     = {}
}
