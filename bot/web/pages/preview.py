"""Live Markdown preview for the review queue and the issue editor.

The page's script posts the textarea's text here (with the CSRF header) and puts the
returned HTML in the preview pane; the HTML is sanitised on the server by the same
renderer that drew the page, so the preview and the first render never differ.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.web.common import form_action, text
from bot.web.markdown import render_markdown


async def preview(request: Request, form: FormData) -> Response:
    return HTMLResponse(str(render_markdown(text(form, "text"))))


ROUTES = [Route("/preview", form_action(preview), methods=["POST"])]
