"""MkDocs hook: pick up the notebooks, build the API pages, and keep the site offline.

- Every ``notebooks/*.ipynb`` (repository root) becomes a page under ``notebooks/``
  and a nav entry, found by glob: a new notebook needs no edit here. mkdocs-jupyter
  renders them from the stored file, without executing them.
- API pages are generated for the modules in ``API`` that import, plus any name in
  ``vae_widgets.__all__`` not covered yet, so a module that has not landed (or was
  renamed) leaves the build green instead of failing it.
- MathJax comes from the ``jupyter-server-mathjax`` package, copied into the site;
  nbconvert's CDN MathJax/mermaid/require.js/widget script tags are removed, so no page
  asks another host for anything (``.ci/docs`` checks the built HTML).
"""
from __future__ import annotations

import importlib
import logging
import pathlib
import re

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.hooks.offline")
ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
MATHJAX_DIR = "assets/mathjax"
NB_SECTION = "Teaching notebooks"
API_SECTION = "API reference"
_STATE: dict = {}

#: (page, title, [objects]); an object whose module does not import is left out
API = [
    ("widgets", "Widgets", ["vae_widgets.widgets.tsne_widget.TSNEWidget",
                            "vae_widgets.widgets.vae_widget.VAEWidget",
                            "vae_widgets.widgets.sweep_widget.TSNESweepWidget",
                            "vae_widgets.widgets.anomaly_widget.AnomalyWidget"]),
    ("tsne", "t-SNE engine", ["vae_widgets.tsne.runner.TSNERunner",
                              "vae_widgets.tsne.params.TSNEParams"]),
    ("tsne-metrics", "t-SNE metrics and alignment", ["vae_widgets.tsne.metrics",
                                                     "vae_widgets.tsne.align"]),
    ("vae", "VAE engine", ["vae_widgets.vae.trainer.VAETrainer",
                           "vae_widgets.vae.config.VAEConfig",
                           "vae_widgets.vae.checkpoint"]),
    ("vae-analysis", "VAE analysis", ["vae_widgets.vae.anomaly",
                                      "vae_widgets.vae.disentangle"]),
    ("datasets", "Datasets", ["vae_widgets.datasets"]),
    ("export", "Export", ["vae_widgets.export"]),
    ("stream", "Streaming", ["vae_widgets._stream.EventBus", "vae_widgets._stream.Control"]),
    ("runs", "Runs going on", ["vae_widgets._runs.running", "vae_widgets._runs.stop_all",
                               "vae_widgets._runs.Run"]),
    ("bridge", "Bridge (other processes and machines)", ["vae_widgets.bridge"]),
    ("lightning", "Lightning", ["vae_widgets.lightning"]),
]


def _importable(path: str) -> bool:
    """True when ``path`` names a module (with a file: not a half-made namespace
    package), or an attribute of one, that imports."""
    candidates = [(path, None)]
    if "." in path:
        module, attr = path.rsplit(".", 1)
        candidates.append((module, attr))
    for mod, attr in candidates:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        except Exception:      # noqa: BLE001 - a broken module is left out, and logged
            log.info("API: %s does not import; its page is left out", mod)
            return False
        if getattr(m, "__file__", None) is None:
            return False
        return attr is None or hasattr(m, attr)
    log.info("API: %s is not there (yet); its page is left out", path)
    return False


def _api_pages():
    pages, covered = [], set()
    for slug, title, objects in API:
        found = [o for o in objects if _importable(o)]
        covered.update(o.rsplit(".", 1)[-1] for o in found)
        if found:
            pages.append((slug, title, found))
    try:                       # names made public later (sweep, anomaly widgets, ...)
        pkg = importlib.import_module("vae_widgets")
        lazy = getattr(pkg, "_LAZY", {})
        extra = []
        for name in getattr(pkg, "__all__", []):
            if name.startswith("_") or name in covered:
                continue
            path = f"{lazy[name]}.{name}" if name in lazy else f"vae_widgets.{name}"
            if _importable(path):
                extra.append(path)
        if extra:
            pages.append(("more", "More", extra))
    except Exception:          # noqa: BLE001
        log.info("API: vae_widgets does not import; only the listed pages are built")
    return pages


#: classes whose documented methods live partly in a mixin of this package
INHERITS = {"vae_widgets.vae.trainer.VAETrainer"}


def _directive(obj: str) -> str:
    if obj in INHERITS:   # (not for widgets: they would list all of ipywidgets' members)
        return f"::: {obj}\n    options:\n      inherited_members: true"
    return f"::: {obj}"


def _notebooks():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


# ------------------------------------------------------------------------------ events
def on_config(config):
    _STATE["api"] = _api_pages()
    nav = config["nav"]
    if nav is not None:
        for entry in nav:
            if isinstance(entry, dict) and NB_SECTION in entry:
                entry[NB_SECTION] = [f"notebooks/{p.name}" for p in _notebooks()]
            if isinstance(entry, dict) and API_SECTION in entry:
                entry[API_SECTION] = [{t: f"api/{s}.md"} for s, t, _ in _STATE["api"]]
    return config


@event_priority(100)           # before mkdocs-jupyter wraps the .ipynb files
def on_files(files, config):
    for nb in _notebooks():
        files.append(File(f"notebooks/{nb.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    images = sorted((pathlib.Path(config["docs_dir"]) / "images").glob("*.png"))
    if images:                 # every committed screenshot, including ones added later
        body = "# Screenshots\n\nCaptured by the browser tests (`tests/browser/`) in a real " \
               "JupyterLab and Chromium, and copied here.\n\n" + "\n\n".join(
                   f"## {p.stem.replace('_', ' ')}\n\n![{p.stem.replace('_', ' ')}](images/{p.name})"
                   for p in images) + "\n"
        files.append(File.generated(config, "screenshots.md", content=body))
    for slug, title, objects in _STATE["api"]:
        body = f"# {title}\n\n" + "\n\n".join(_directive(o) for o in objects) + "\n"
        files.append(File.generated(config, f"api/{slug}.md", content=body))
    try:
        import jupyter_server_mathjax
    except ImportError:
        log.warning("jupyter-server-mathjax is not installed: formulas stay as TeX "
                    "(pip install -e '.[docs]')")
        return files
    static = pathlib.Path(jupyter_server_mathjax.__file__).parent / "static"
    for f in static.rglob("*"):
        rel = f.relative_to(static)
        if f.is_file() and not (rel.parts[0] == "localization" and rel.parts[1] != "en"):
            files.append(File.generated(config, f"{MATHJAX_DIR}/{rel.as_posix()}",
                                        abs_src_path=str(f)))
    return files


_NB_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MODULE_SCRIPTS = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?https?://.*?</script>",
                             re.S)
_EXTERNAL_SRC = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>")


def on_post_page(html, page, config):
    # nbconvert's page head: MathJax, mermaid, require.js and widget managers from CDNs.
    # The site loads its own MathJax copy (extra_javascript) for every page instead.
    html = _NB_MATHJAX.sub("", html)
    html = _MODULE_SCRIPTS.sub("", html)
    return _EXTERNAL_SRC.sub("", html)


def on_serve(server, config, builder):
    server.watch(str(NOTEBOOKS))
    return server
