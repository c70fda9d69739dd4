terraform {
  # Validation rules that refer to other values need Terraform 1.9; the root needs 1.11.
  # No providers: this module only reads and checks functions/catalogue.yaml.
  required_version = ">= 1.11.0"
}
