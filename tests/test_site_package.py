"""The site as a package: Datasette loads it through its entry points, its
one ASGI wrapper composes the layers in the order middleware.py declares,
its workarounds apply only to the Datasette they were written for, and its
templates and static files are Datasette's. In-process, no server."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import datasette
import datasette.handle_exception as datasette_errors
import httpx
import pytest
from datasette.app import Datasette
from datasette.plugins import pm

import agingkb_site
from agingkb_site import assets, middleware, serve, workarounds

from .conftest import run_async

PACKAGE_DIR = Path(agingkb_site.__file__).parent


def get(app, path: str, **headers) -> httpx.Response:
    async def request():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get(path, headers=headers)

    return run_async(request())


def package_modules():
    return [importlib.import_module(f"agingkb_site.{info.name}") for info in pkgutil.iter_modules([str(PACKAGE_DIR)])]


def test_the_entry_points_register_every_hook_module():
    registered = {plugin.__name__ for plugin in pm.get_plugins()}
    with_hooks = {
        module.__name__
        for module in package_modules()
        if any(pm.parse_hookimpl_opts(module, name) for name in dir(module))
    }
    assert with_hooks and with_hooks <= registered
    assert "agingkb_site" in registered  # the package: Datasette finds templates/ and static/ through it


def test_the_site_has_one_asgi_wrapper():
    ours = [impl.plugin.__name__ for impl in pm.hook.asgi_wrapper.get_hookimpls()]
    assert [name for name in ours if name.startswith("agingkb_site")] == ["agingkb_site.middleware"]
    assert [module.__name__ for module in package_modules() if hasattr(module, "asgi_wrapper")] == [
        "agingkb_site.middleware"
    ]


def test_a_request_passes_the_layers_in_the_declared_order(monkeypatch):
    entered = []

    def spy(name, layer):
        def spied(instance):
            wrap = layer(instance)

            def spied_wrap(app):
                inner = wrap(app)

                async def probe(scope, receive, send):
                    entered.append(name)
                    await inner(scope, receive, send)

                return probe

            return spied_wrap

        return spied

    declared = [name for name, _ in middleware.LAYERS]
    # The order kept from before the hooks were one: security outermost, admission next to Datasette;
    # outside them, the MCP transport's lifespan, which lets requests through untouched; CORS just
    # inside security; innermost, the marking of requests whose SQL runs on the event loop.
    assert declared == ["mcp_lifespan", "security", "cors", "search_hints", "page_cache", "admission", "sql_on_loop"]
    monkeypatch.setattr(middleware, "LAYERS", tuple((name, spy(name, layer)) for name, layer in middleware.LAYERS))
    response = get(Datasette(memory=True).app(), "/-/versions.json")
    assert response.status_code == 200 and "datasette" in response.json()
    assert entered == declared


def test_security_headers_wrap_the_answers_of_the_inner_layers(monkeypatch):
    """A 429 from the admission gate, the innermost layer, carries the
    headers the outer layers add: security's, and CORS on a JSON answer, so
    a page on another site can read the refusal and its Retry-After."""
    closed = {**serve.LIMITS, "expensive_in_flight": 0, "expensive_queue": 0}
    monkeypatch.setenv("AGINGKB_LIMITS", json.dumps(closed))
    response = get(Datasette(memory=True).app(), "/agingkb.json?sql=select+1")
    assert response.status_code == 429 and response.json()["status"] == 429
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Retry-After" in response.headers["access-control-expose-headers"]


def test_the_workarounds_apply_to_the_datasette_they_were_written_for(monkeypatch):
    assert datasette.__version__ == workarounds.WRITTEN_FOR
    monkeypatch.setattr(datasette_errors, "rich", object())
    instance = Datasette(memory=True)
    assert workarounds.quiet_error_tracebacks() and datasette_errors.rich is None
    assert workarounds.cache_table_permissions(instance)
    assert instance._table_permission_allows("db", "t") == instance._table_permission_allows("db", "t")
    assert instance._table_permission_allows.cache_info().hits == 1


def test_on_another_datasette_the_workarounds_warn_and_change_nothing(monkeypatch):
    monkeypatch.setattr(datasette, "__version__", "1.0a19")
    rich = object()
    monkeypatch.setattr(datasette_errors, "rich", rich)
    instance = Datasette(memory=True)
    said = r"written for Datasette 0\.65\.5, this is Datasette 1\.0a19; it is not applied"
    with pytest.warns(workarounds.DatasetteVersionWarning, match=said):
        assert workarounds.quiet_error_tracebacks() is False
    with pytest.warns(workarounds.DatasetteVersionWarning, match="cache_table_permissions"):
        assert workarounds.cache_table_permissions(instance) is False
    assert datasette_errors.rich is rich and not hasattr(instance._table_permission_allows, "cache_info")
    database = instance.get_database("_memory")
    on_pool = database.execute_fn
    with pytest.warns(workarounds.DatasetteVersionWarning, match="queries_on_loop"):
        assert workarounds.queries_on_loop(instance, database, lambda: True, lambda c: c) is False
    assert database.execute_fn == on_pool, "every query stays on Datasette's thread pool"


def test_templates_and_static_files_come_from_the_package():
    instance = Datasette(memory=True)
    for name in ("base.html", "home.html", "row-agingkb-pages.html"):
        assert Path(instance.jinja_env.get_template(name).filename).parent == PACKAGE_DIR / "templates"
    app = instance.app()
    for name in ("site.css", "accessible-names.js", "column-descriptions.js", "charts.css", "forest-plot.css"):
        url = assets.static_url(instance, name)
        assert url.startswith(f"/-/static-plugins/{assets.plugin_name()}/{name}?")
        response = get(app, url)
        assert response.status_code == 200 and response.content == (PACKAGE_DIR / "static" / name).read_bytes()
        types = ("text/css",) if name.endswith(".css") else ("text/javascript", "application/javascript")
        assert response.headers["content-type"].startswith(types)
        assert response.headers["x-content-type-options"] == "nosniff"  # so the type must be right
