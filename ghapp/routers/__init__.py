"""Which webhook events do what: one gidgethub `Router` per event family, combined
in `ROUTER`. Events and actions not registered here are acknowledged by the server
(200) and ignored: among them `installation` and `installation_repositories`, which
GitHub sends every app and which need no work here (registering a handler would turn
their answer into 202 and start background work).

Callbacks take `(event, context)`; `context` (`EventContext`) carries what they need:
the GitHub App, the review queue and the config loader, so tests can swap any of them.
"""

from __future__ import annotations

from gidgethub import routing

from ghapp.routers import checks, comments, pull_requests

ROUTER = routing.Router(pull_requests.router, checks.router, comments.router)
