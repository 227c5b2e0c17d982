"""`python -m localreview`: the `product-review` command."""

from localreview.main import main

if __name__ == "__main__":
    raise SystemExit(main())
