"""``retention templates serve``: a local page of every template × sample customer, to look rather than read.

Each cell shows a thumbnail, the subject and preheader, and the promotion share of the HTML and
the text part (each green within the limit, red above it), and opens the email as a customer
would see it in a 600 px (desktop) or 375 px (mobile) frame, with its plain-text part. A template
that does not render says why in the cell, in the lint's words (file:line and what to change).
The Journeys page draws every journey (journey_view.py), each step linked to its email. Files
are re-read on every page load, so a marketer can edit and refresh. Loopback only; nothing is sent.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import TemplateSyntaxError

from retention.mail import catalog as files
from retention.mail.promotion import Share
from retention.mail.render import RenderError
from retention.paths import templates_dir
from retention_tools.authoring.journey_view import as_svg, picture
from retention_tools.authoring.lint import _RecordingRenderer, _render_problem
from retention_tools.authoring.preview import Preview, preview_settings, render_sample
from retention_tools.authoring.template_errors import syntax_problem

FRAMES = {"desktop": 600, "mobile": 375}
THUMBNAIL_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Thumbnails load nothing from the network: dozens of tracking pixels to an unreachable host would
keep the index loading for minutes."""
_ERROR_CHARS = 400

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
nav a {{ margin-right: 16px; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ddd; padding: 6px 10px; text-align: left;
 vertical-align: top; }}
th {{ background: #f6f6f6; font-weight: 600; }} td.kind {{ color: #666; }}
td.cell {{ width: 190px; max-width: 190px; font-size: 12px; }}
.thumb {{ display: block; width: 150px; height: 190px; overflow: hidden; border: 1px solid #ccc; }}
.thumb iframe {{ width: 600px; height: 760px; border: 0; transform: scale(0.25); transform-origin: 0 0;
 pointer-events: none; }}
.subject {{ font-weight: 600; margin-top: 4px; }} .preheader {{ color: #666; }}
.shares {{ font-variant-numeric: tabular-nums; }} .shares span {{ white-space: nowrap; }}
.ok {{ color: #116b2e; }} .over {{ color: #b00020; font-weight: 700; }}
.error {{ color: #b00020; overflow-wrap: anywhere; white-space: normal; display: block; }}
.frame {{ border: 1px solid #ccc; height: 1600px; display: block; }}
.frames a.current {{ font-weight: 700; text-decoration: none; color: #222; }}
pre {{ white-space: pre-wrap; max-width: 640px; }}
.panes {{ display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }} .meta dt {{ font-weight: 600; }}
.journey-diagram {{ overflow-x: auto; margin-bottom: 24px; }}
</style></head><body><nav><a href="/">Email templates</a><a href="/journeys">Journeys</a></nav>{body}</body></html>"""

_FIT = "try{{this.style.height=(this.contentDocument.documentElement.scrollHeight+24)+'px'}}catch(e){{}}"


def _share(label: str, share: Share, limit: float) -> str:
    css = "ok" if share.ratio <= limit + 1e-9 else "over"
    return f'<span class="{css}">{label} {share.percent}</span>'


class _Gallery:
    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.lock = threading.Lock()
        self._renderer: _RecordingRenderer | None = None
        self._stamp: tuple[tuple[str, int, int], ...] = ()

    def _fresh(self) -> _RecordingRenderer:
        """A renderer on the files as they are now: rebuilt only when a file under ``templates/``
        changed, so the index's thumbnails (one request each) do not compile everything again."""
        root = self.root or templates_dir()
        stamp = tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()))
        if self._renderer is None or stamp != self._stamp:
            files.clear_caches()
            self._renderer, self._stamp = _RecordingRenderer(root, auto_reload=True), stamp
        return self._renderer

    def _preview(self, renderer: _RecordingRenderer, template: str, customer: str) -> Preview | str | None:
        """The email, or why it does not render (plain words, file:line), or None when unknown."""
        sample = next((s for s in files.samples(renderer.root).customers if s.customer_id == customer), None)
        if sample is None or template not in renderer.catalog.templates:
            return None
        try:
            return render_sample(renderer, template, sample)
        except RenderError as error:
            return _explain(renderer, template, error)

    def index(self) -> str:
        with self.lock:
            try:
                renderer = self._fresh()
                samples = files.samples(renderer.root).customers
                templates = renderer.catalog.templates
            except files.CatalogError as error:
                return _PAGE.format(title="Email templates", body=f'<p class="error">{html.escape(str(error))}</p>')
            limit = preview_settings().promotion_share_limit
            head = "".join(f"<th>{html.escape(s.label)}</th>" for s in samples)
            rows = []
            for name, entry in templates.items():
                cells = "".join(self._cell(renderer, name, sample.customer_id, limit) for sample in samples)
                rows.append(f"<tr><th>{html.escape(name)}</th><td class='kind'>{entry.kind.value}</td>{cells}</tr>")
        body = (
            f"<h1>Email templates</h1><p>Promotion share of each part's visible text (HTML and plain text, "
            f"each checked); the limit is {limit * 100:.0f} %. Click a thumbnail for the full email.</p>"
            f"<table><tr><th>template</th><th>kind</th>{head}</tr>{''.join(rows)}</table>"
        )
        return _PAGE.format(title="Email templates", body=body)

    def _cell(self, renderer: _RecordingRenderer, template: str, customer: str, limit: float) -> str:
        preview = self._preview(renderer, template, customer)
        if not isinstance(preview, Preview):
            return f'<td class="cell"><span class="error">{html.escape(str(preview))}</span></td>'
        rendered = preview.rendered
        href = html.escape(f"/view/{template}/{customer}")
        src = html.escape(f"/thumb/{template}/{customer}.html")
        return (
            f'<td class="cell"><a class="thumb" href="{href}" title="open the email">'
            f'<iframe loading="lazy" tabindex="-1" title="thumbnail" src="{src}"></iframe></a>'
            f'<div class="subject"><a href="{href}">{html.escape(rendered.subject)}</a></div>'
            f'<div class="preheader">{html.escape(rendered.preheader)}</div>'
            f'<div class="shares">promotion: {_share("HTML", rendered.html_share, limit)} · '
            f"{_share('text', rendered.text_share, limit)}</div></td>"
        )

    def view(self, template: str, customer: str, frame: str = "desktop") -> str | None:
        with self.lock:
            preview = self._preview(self._fresh(), template, customer)
        if preview is None:
            return None
        if isinstance(preview, str):
            return _PAGE.format(title="error", body=f'<p class="error">{html.escape(preview)}</p>')
        frame = frame if frame in FRAMES else "desktop"
        rendered, limit = preview.rendered, preview.limit
        verdict = "within the limit" if preview.within_limit else "ABOVE THE LIMIT - the send path would refuse it"
        here = html.escape(f"/view/{template}/{customer}")
        toggle = " ".join(
            f'<a class="{"current" if name == frame else ""}" href="{here}?frame={name}">{name} ({width} px)</a>'
            for name, width in FRAMES.items()
        )
        src = html.escape(f"/email/{template}/{customer}.html")
        body = (
            f'<p><a href="/">all templates</a></p>'
            f"<h1>{html.escape(template)} for {html.escape(preview.sample.label)}</h1>"
            f'<dl class="meta"><dt>Subject</dt><dd>{html.escape(rendered.subject)}</dd>'
            f"<dt>Preheader</dt><dd>{html.escape(rendered.preheader)}</dd>"
            f'<dt>Promotion share</dt><dd class="shares">{_share("HTML", rendered.html_share, limit)}, '
            f"{_share('text', rendered.text_share, limit)} ({verdict})</dd>"
            f"<dt>Language</dt><dd>{rendered.language}</dd></dl>"
            f'<p class="frames">Frame: {toggle}</p>'
            f'<div class="panes"><iframe title="HTML part" class="frame" data-frame="{frame}" src="{src}" '
            f'style="width: {FRAMES[frame] + 2}px" onload="{_FIT.format()}"></iframe>'
            f"<pre>{html.escape(preview.tracked.text)}</pre></div>"
        )
        return _PAGE.format(title=f"{template} preview", body=body)

    def email(self, template: str, customer: str) -> str | None:
        with self.lock:
            preview = self._preview(self._fresh(), template, customer)
        return preview.tracked.html if isinstance(preview, Preview) else None

    def journeys(self) -> str:
        from retention.journeys.definitions import JourneyError, parse_journeys

        with self.lock:
            renderer = self._fresh()
            try:
                definitions = parse_journeys(renderer.root)
            except (JourneyError, files.CatalogError) as error:
                body = f'<h1>Journeys</h1><p class="error">{html.escape(str(error)[:2000])}</p>'
                return _PAGE.format(title="Journeys", body=body)
            shown = [picture(name, definitions, renderer.root) for name in definitions.journeys]
        sections = "".join(
            f'<section id="journey-{html.escape(p.name)}"><h2>{html.escape(p.name)}</h2>'
            f"<p>{html.escape(p.description)}</p>"
            f'<div class="journey-diagram">{as_svg(p)}</div></section>'
            for p in shown
        )
        body = (
            "<h1>Journeys</h1><p>Each journey from journeys.yaml: what starts it, who enters, each step's day "
            "(counted from entry), its email (click it for the preview; each language links to a sample who reads "
            "it), the A/B split, the hold-out share (entrants who get nothing, to measure lift) and what ends it."
            f"</p>{sections}"
        )
        return _PAGE.format(title="Journeys", body=body)

    def page(self, path: str) -> str | None:
        """The page at ``path`` (with its query), or None for not found."""
        split = urlsplit(path)
        parts = [unquote(part) for part in split.path.strip("/").split("/")]
        if parts == [""]:
            return self.index()
        if parts == ["journeys"]:
            return self.journeys()
        if len(parts) == 3 and parts[0] == "view":
            frame = parse_qs(split.query).get("frame", ["desktop"])[0]
            return self.view(parts[1], parts[2], frame)
        if len(parts) == 3 and parts[0] in ("email", "thumb") and parts[2].endswith(".html"):
            return self.email(parts[1], parts[2][: -len(".html")])
        return None


def _explain(renderer: _RecordingRenderer, template: str, error: RenderError) -> str:
    """Why ``template`` did not render, as ``retention templates lint`` says it (file:line: plain words)."""
    cause = error.__cause__
    shown: object = error.reason
    if isinstance(cause, TemplateSyntaxError):
        failing = cause.name or f"emails/{template}.html"
        path = renderer.root / failing
        if path.exists():
            shown = syntax_problem(cause, failing, path.read_text(encoding="utf-8"), renderer.env)
    else:
        shown = _render_problem(renderer, template, error) or error.reason
    text = str(shown)
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"


def make_server(port: int = 8025, root: Path | None = None) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (``port`` 0 picks a free one); call ``serve_forever`` or use in a thread."""
    gallery = _Gallery(root)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = gallery.page(self.path)
            body = (page or "<h1>Not found</h1>").encode("utf-8")
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if self.path.startswith("/thumb/"):
                self.send_header("Content-Security-Policy", THUMBNAIL_POLICY)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
