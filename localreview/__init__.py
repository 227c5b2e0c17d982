"""Reviewing design docs on this machine, without GitHub: the `product-review` command,
the files and the config file on disk, and the worker processes every document is
reviewed in, within its limits (which the GitHub App's server uses too)."""
