"""Every dashboard route, collected for `bot.web.app.create_app`."""

from starlette.routing import BaseRoute

from bot.web.pages import audit, auth_pages, clusters, drafts, issues, overview, preview

ROUTES: list[BaseRoute] = [
    *auth_pages.ROUTES,
    *overview.ROUTES,
    *clusters.ROUTES,
    *drafts.ROUTES,
    *issues.ROUTES,
    *audit.ROUTES,
    *preview.ROUTES,
]
