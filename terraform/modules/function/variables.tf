variable "project_id" {
  description = "Project of the function."
  type        = string
}

variable "region" {
  description = "Region of the function and of its Eventarc trigger."
  type        = string
}

variable "name" {
  description = "Function name (the catalogue key); also the Cloud Run service name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,25}[a-z0-9]$", var.name))
    error_message = "name must be 3-27 characters of a-z, 0-9 and '-' (its service account id is fn-<name>, at most 30 characters)."
  }
}

variable "source_dir" {
  description = "Folder under functions/ whose main.py is the entry file (the catalogue's `source`)."
  type        = string
}

variable "entry_point" {
  description = "Python callable in main.py that the runtime invokes."
  type        = string
}

variable "runtime" {
  description = "Python runtime, e.g. python312 (sets the buildpacks' GOOGLE_RUNTIME_VERSION)."
  type        = string

  validation {
    condition     = can(regex("^python3[0-9]+$", var.runtime))
    error_message = "runtime must be a Python runtime such as python312."
  }
}

variable "ingress" {
  description = "\"public\" (internal + Cloud Load Balancing: INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER) or \"internal\" (INGRESS_TRAFFIC_INTERNAL_ONLY)."
  type        = string

  validation {
    condition     = contains(["public", "internal"], var.ingress)
    error_message = "ingress must be \"public\" or \"internal\"."
  }
}

variable "sizing" {
  description = "Cloud Run resources from the catalogue: memory (e.g. 512Mi), cpu (e.g. \"1\"), min/max instances, request concurrency, gunicorn threads, timeout in seconds."
  type = object({
    memory        = string
    cpu           = string
    min_instances = number
    max_instances = number
    concurrency   = number
    threads       = number
    timeout_s     = number
  })

  validation {
    condition     = var.sizing.min_instances >= 0 && var.sizing.max_instances >= 1 && var.sizing.min_instances <= var.sizing.max_instances
    error_message = "sizing needs 0 <= min_instances <= max_instances and max_instances >= 1."
  }

  validation {
    condition     = var.sizing.concurrency >= 1 && var.sizing.concurrency <= 1000 && var.sizing.threads >= var.sizing.concurrency
    error_message = "sizing.concurrency must be 1-1000 and sizing.threads at least concurrency."
  }

  validation {
    condition     = var.sizing.concurrency == 1 || tonumber(var.sizing.cpu) >= 1
    error_message = "A request concurrency above 1 needs at least 1 vCPU."
  }

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.sizing.memory))
    error_message = "sizing.memory must look like 512Mi or 2Gi."
  }
}

variable "db_pool" {
  description = "SQLAlchemy pool per instance (DB_POOL_SIZE, DB_POOL_OVERFLOW)."
  type = object({
    size     = number
    overflow = number
  })

  validation {
    condition     = var.db_pool.size >= 0 && var.db_pool.overflow >= 0
    error_message = "db_pool.size and db_pool.overflow cannot be negative."
  }
}

variable "access" {
  description = "Who gets past Cloud Run's own gate: \"load_balancer\" (public function, invoker check off), \"iap\" or \"network\" (internal HTTP function, see admin_access in the root), \"push\" (event-triggered: only the trigger's service account may invoke)."
  type        = string

  validation {
    condition     = contains(["load_balancer", "iap", "network", "push"], var.access)
    error_message = "access must be load_balancer, iap, network or push."
  }

  validation {
    condition     = (var.access == "load_balancer") == (var.ingress == "public")
    error_message = "Public ingress goes with access load_balancer, and only with it."
  }
}

variable "push_trigger" {
  description = "For an event-triggered function: the topic its push subscription reads (full id), delivery attempts before dead-lettering (null = never), message retention and retry backoff. null for an HTTP function."
  type = object({
    topic_id          = string
    dead_letter_after = optional(number)
    message_retention = optional(string, "600s")
    minimum_backoff   = optional(string, "10s")
    maximum_backoff   = optional(string, "600s")
  })
  default = null

  validation {
    # Conditionals, not ||: Terraform evaluates both sides of || and null >= 5 is an error.
    condition = (
      var.push_trigger == null ? true : (
        var.push_trigger.dead_letter_after == null ? true : (
          var.push_trigger.dead_letter_after >= 5 && var.push_trigger.dead_letter_after <= 100
        )
      )
    )
    error_message = "dead_letter_after must be between 5 and 100 (Pub/Sub's max_delivery_attempts range)."
  }
}

variable "pubsub_service_agent_email" {
  description = "The project's Pub/Sub service agent (service-NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com): it mints push OIDC tokens and moves messages to dead-letter topics."
  type        = string
}

variable "iap_service_agent_email" {
  description = "The project's IAP service agent (service-NUMBER@gcp-sa-iap.iam.gserviceaccount.com); with access = iap it is the only invoker of the service."
  type        = string
}

variable "iap_members" {
  description = "Principals allowed through IAP when access = iap (roles/iap.httpsResourceAccessor). Never allUsers or allAuthenticatedUsers."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.iap_members : !contains(["allusers", "allauthenticatedusers"], lower(m))])
    error_message = "IAP must never admit allUsers or allAuthenticatedUsers."
  }
}

variable "image_repository" {
  description = "Artifact Registry Docker repository path (REGION-docker.pkg.dev/PROJECT/REPO) the built images are pushed to."
  type        = string
}

variable "builder" {
  description = "Google Cloud's buildpacks builder image the function is built with."
  type        = string
  default     = "gcr.io/buildpacks/builder:google-22"
}

variable "repo_root" {
  description = "Path of the repository root (holds shared/ and functions/)."
  type        = string
}

variable "requirements_file" {
  description = "requirements.txt for the runtime, relative to repo_root."
  type        = string
  default     = "functions/requirements.txt"
}

variable "package_extensions" {
  description = "Comma-separated file extensions packed from shared/ and functions/ (text files only: archive_file reads them as UTF-8)."
  type        = string
  default     = "py,pyi,typed,lua,ini,mako,sql,json,yaml,yml,txt"

  validation {
    condition     = can(regex("^[a-z0-9]+(,[a-z0-9]+)*$", var.package_extensions))
    error_message = "package_extensions must be extensions separated by commas, without dots or spaces."
  }
}

variable "build_dir" {
  description = "Local folder where the source archive is written before upload."
  type        = string
}

variable "source_bucket" {
  description = "Bucket the source archive is uploaded to."
  type        = string
}

variable "build_service_account_id" {
  description = "Service account Cloud Build runs the image build as (projects/P/serviceAccounts/EMAIL)."
  type        = string
}

variable "network" {
  description = "Name of the VPC for Direct VPC egress."
  type        = string
}

variable "subnetwork" {
  description = "Name of the subnet for Direct VPC egress addresses."
  type        = string
}

variable "environment" {
  description = "Plain environment variables shared by every function (the module adds DB_IAM_USER, DB_POOL_SIZE, DB_POOL_OVERFLOW, THREADS and WORKERS)."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Secrets this function reads, as environment variables: name → {secret (short name), secret_id (full id), version (pinned number)}."
  type = map(object({
    secret    = string
    secret_id = string
    version   = string
  }))
  default = {}
}

variable "events_topic_id" {
  description = "Domain-events topic the function may publish to."
  type        = string
}

variable "project_roles" {
  description = "Project roles beyond Cloud SQL client + instance user (e.g. roles/cloudscheduler.viewer for admin)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.project_roles : startswith(r, "roles/")])
    error_message = "project_roles must be role names starting with \"roles/\"."
  }
}

variable "labels" {
  description = "Labels on the service and its topics and subscriptions."
  type        = map(string)
  default     = {}
}
