# Runs one Cloud Build build of a function image (called by terraform_data.image).
# BUILD_CONFIG (JSON), PROJECT, REGION and IMAGE come from Terraform.
set -euo pipefail
config="$(mktemp --suffix=.json)"
trap 'rm -f "$config"' EXIT
printf '%s' "$BUILD_CONFIG" >"$config"
echo "building $IMAGE in Cloud Build ($REGION)" >&2
gcloud builds submit --no-source --config="$config" --project="$PROJECT" --region="$REGION"
