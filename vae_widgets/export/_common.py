"""Shared pieces of the Bokeh export: escaping, notes, palettes, hover-safe text."""
from __future__ import annotations

import html

import numpy as np

#: figure width in px: the layouts are fixed-size so the HTML reads the same everywhere
WIDTH = 640


def esc(text) -> str:
    """User text for an HTML template: tags escaped, and Bokeh's ``@``/``$``/``{``
    placeholders neutralised, so a label is shown literally and never runs."""
    s = html.escape(str(text), quote=True)
    return s.replace("@", "&#64;").replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")


def note(message: str):
    """A visible note in the exported page (escaped: it may quote user text)."""
    from bokeh.models import Div

    return Div(text=f'<p style="margin:4px 0;padding:6px 10px;border-left:4px solid #e0a800;'
                    f'background:#fff8e1;color:#5d4200;font:13px sans-serif">{esc(message)}</p>',
               width=WIDTH)


def heading(text: str, level: int = 2):
    from bokeh.models import Div

    return Div(text=f'<h{level} style="font:600 {20 if level == 2 else 16}px sans-serif;'
                    f'margin:14px 0 4px">{esc(text)}</h{level}>', width=WIDTH)


def category_palette(k: int) -> list[str]:
    """Distinct colours for ``k`` categories (Category10/20, then a sampled Turbo map)."""
    from bokeh.palettes import Category10_10, Category20_20, Turbo256

    if k <= 10:
        return list(Category10_10[:max(k, 1)])
    if k <= 20:
        return list(Category20_20[:k])
    return [Turbo256[int(i)] for i in np.linspace(0, 255, k)]


def finite_or_nan(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
