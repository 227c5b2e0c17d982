"""`python -m ghapp`: run the GitHub App server (same as `product-review serve`)."""

from ghapp.server import main

if __name__ == "__main__":
    raise SystemExit(main())
