"""The GitHub side of product-review: webhook server, app auth, review flow."""
