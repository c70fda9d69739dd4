terraform {
  # 1.11: write-only arguments (secret values never in state) and ephemeral resources.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 7.45.0, < 8.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.8.0, < 3.0.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7.0, < 4.0.0"
    }
  }

  # State lives in a GCS bucket created once by hand (see README.md, "Before the first
  # apply"): terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=halo/prod"
  backend "gcs" {}
}
