"""Request and response models of the HTTP contract, a family per entity
(e.g. `DisplayNameIn`, `ClientProfileOut`), shared by the functions and the OpenAPI docs."""
