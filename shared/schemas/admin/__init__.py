"""The control center's request and response models (the admin section of the contract),
one module per resource, as functions/admin/routes/ is split."""
