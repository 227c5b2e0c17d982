"""What the tests share: the fake GitHub (REST and GraphQL), webhook delivery helpers
and hand-built review reports."""
