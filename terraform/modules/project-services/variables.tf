variable "project_id" {
  description = "Project whose APIs are enabled."
  type        = string
}

variable "services" {
  description = "API service names to enable, e.g. \"run.googleapis.com\"."
  type        = list(string)

  validation {
    condition     = alltrue([for s in var.services : endswith(s, ".googleapis.com")])
    error_message = "Every service must be an API name ending in \".googleapis.com\"."
  }
}
