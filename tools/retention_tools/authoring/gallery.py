"""``retention templates serve``: a local page of every template × sample customer, to look rather than read.

Each cell shows the promotion share (green within the limit, red above it) and opens the email
as a customer would see it, with its subject, preheader and plain-text part. Files are re-read on
every page load, so a marketer can edit a template and refresh. Loopback only; nothing is sent.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from retention.mail import catalog as files
from retention.mail.render import Renderer, RenderError
from retention_tools.authoring.preview import Preview, preview_settings, render_sample

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ddd; padding: 6px 10px; text-align: left; }}
th {{ background: #f6f6f6; font-weight: 600; }} td.kind {{ color: #666; }}
a.ok {{ color: #116b2e; }} a.over {{ color: #b00020; font-weight: 700; }} span.error {{ color: #b00020; }}
iframe {{ width: 640px; height: 900px; border: 1px solid #ccc; }} pre {{ white-space: pre-wrap; max-width: 640px; }}
.panes {{ display: flex; gap: 24px; align-items: flex-start; }} .meta dt {{ font-weight: 600; }}
</style></head><body>{body}</body></html>"""


class _Gallery:
    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.lock = threading.Lock()

    def _fresh(self) -> Renderer:
        files.clear_caches()
        return Renderer(self.root, auto_reload=True)

    def _preview(self, renderer: Renderer, template: str, customer: str) -> Preview | str:
        sample = next((s for s in files.samples(renderer.root).customers if s.customer_id == customer), None)
        if sample is None or template not in renderer.catalog.templates:
            return "unknown template or sample customer"
        try:
            return render_sample(renderer, template, sample)
        except RenderError as error:
            return error.reason

    def index(self) -> str:
        with self.lock:
            renderer = self._fresh()
            samples = files.samples(renderer.root).customers
            head = "".join(f"<th>{html.escape(s.label)}</th>" for s in samples)
            rows = []
            for name, entry in renderer.catalog.templates.items():
                cells = []
                for sample in samples:
                    preview = self._preview(renderer, name, sample.customer_id)
                    if isinstance(preview, str):
                        cells.append(f'<td><span class="error">error: {html.escape(preview)}</span></td>')
                        continue
                    css = "ok" if preview.within_limit else "over"
                    share = f"{preview.rendered.promotion_share * 100:.1f} %"
                    href = f"/view/{name}/{sample.customer_id}"
                    cells.append(f'<td><a class="{css}" href="{html.escape(href)}">promo {share}</a></td>')
                rows.append(
                    f"<tr><th>{html.escape(name)}</th><td class='kind'>{entry.kind.value}</td>{''.join(cells)}</tr>"
                )
        limit = preview_settings().promotion_share_limit * 100
        body = (
            f"<h1>Email templates</h1><p>Promotion share of each email's visible text; the limit is {limit:.0f} %.</p>"
            f"<table><tr><th>template</th><th>kind</th>{head}</tr>{''.join(rows)}</table>"
        )
        return _PAGE.format(title="Email templates", body=body)

    def view(self, template: str, customer: str) -> str | None:
        with self.lock:
            preview = self._preview(self._fresh(), template, customer)
        if isinstance(preview, str):
            return None if preview.startswith("unknown") else _PAGE.format(title="error", body=html.escape(preview))
        rendered = preview.rendered
        verdict = "within the limit" if preview.within_limit else "ABOVE THE LIMIT - the send path would refuse it"
        body = (
            f'<p><a href="/">all templates</a></p>'
            f"<h1>{html.escape(template)} for {html.escape(preview.sample.label)}</h1>"
            f'<dl class="meta"><dt>Subject</dt><dd>{html.escape(rendered.subject)}</dd>'
            f"<dt>Preheader</dt><dd>{html.escape(rendered.preheader)}</dd>"
            f"<dt>Promotion share</dt><dd>HTML {rendered.html_share.percent}, text {rendered.text_share.percent}"
            f" ({verdict})</dd><dt>Language</dt><dd>{rendered.language}</dd></dl>"
            f'<div class="panes"><iframe title="HTML part" src="/email/{html.escape(template)}/'
            f'{html.escape(customer)}.html"></iframe><pre>{html.escape(preview.tracked.text)}</pre></div>'
        )
        return _PAGE.format(title=f"{template} preview", body=body)

    def email(self, template: str, customer: str) -> str | None:
        with self.lock:
            preview = self._preview(self._fresh(), template, customer)
        return None if isinstance(preview, str) else preview.tracked.html


def make_server(port: int = 8025, root: Path | None = None) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (``port`` 0 picks a free one); call ``serve_forever`` or use in a thread."""
    gallery = _Gallery(root)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = [unquote(part) for part in self.path.split("?")[0].strip("/").split("/")]
            page: str | None
            if parts == [""]:
                page = gallery.index()
            elif len(parts) == 3 and parts[0] == "view":
                page = gallery.view(parts[1], parts[2])
            elif len(parts) == 3 and parts[0] == "email" and parts[2].endswith(".html"):
                page = gallery.email(parts[1], parts[2][: -len(".html")])
            else:
                page = None
            body = (page or "<h1>Not found</h1>").encode("utf-8")
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
