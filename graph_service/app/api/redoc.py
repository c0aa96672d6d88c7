"""``/redoc``: ReDoc served from this server, working offline under the page policy.

ReDoc's search runs in a web worker made from a ``blob:`` URL, so this page alone allows
``worker-src blob:`` (every other page keeps the stricter policy). Its sidebar shows a logo
fetched from Redocly's CDN; the bundle is served with that address swapped for an empty
image, which ReDoc drops, so nothing is fetched from outside and nothing shows broken.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["REDOC_JS_URL", "mount_redoc", "redoc_bundle"]

REDOC_JS_URL = "/docs-static/redoc.offline.js"
_OUTSIDE_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'
_NO_IMAGE = b'"data:,"'  # fails to decode at once; ReDoc's logo hides itself on error


@cache
def redoc_bundle() -> bytes:
    """ReDoc's standalone script as packaged, without its one outside address."""
    bundle = (files("fastapi_offline") / "static" / "redoc.standalone.js").read_bytes()
    return bundle.replace(_OUTSIDE_LOGO, _NO_IMAGE)


def mount_redoc(app: FastAPI, favicon_url: str) -> None:
    """Add ``/redoc`` and its script to the app. Call it before mounting ``/docs-static``."""
    from graph_service.app.web import content_security_policy

    @app.get(REDOC_JS_URL, include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(
            redoc_bundle(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        nonce = getattr(request.state, "csp_nonce", "")
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title="innograph API",
            redoc_js_url=REDOC_JS_URL,
            redoc_favicon_url=favicon_url,
            with_google_fonts=False,
        )
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        policy = content_security_policy(nonce) + "; worker-src 'self' blob:"
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})
