"""IPython line magics: ``%load_ext vae_widgets`` registers ``%tsne`` and ``%vae``.

::

    %tsne X --labels y --perplexity 30            # a TSNEWidget of X, shown, kept in _tsne
    %tsne X --labels y --image-shape 8,8 --run -o t   # start at once; keep it in ``t``
    %vae X --labels y --image-shape 8,8 --latent-dim 8 --epochs 5 --train

The first word is a Python expression in the notebook's namespace (``X``,
``df.values``, ``X[:500]``). ``--labels`` too. Every other ``--name value`` pair
becomes a keyword argument (dashes turn into underscores): numbers become
``int``/``float``, ``true``/``false``/``none`` become ``True``/``False``/``None``,
``8,8`` becomes a tuple, anything else stays text (``--metric cosine``). A
``--name`` with no value is ``True``. Mistakes raise ``UsageError`` naming the
problem.
"""
from __future__ import annotations

import re
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

_NUMBER = re.compile(r"^[+-]?(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d[\d_]*$")


def parse_value(text: str):
    """Command-line text -> a Python value (see the module docstring)."""
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low == "none":
        return None
    if "," in text:
        parts = [p for p in text.split(",") if p.strip()]
        return tuple(parse_value(p.strip()) for p in parts)
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _NUMBER.match(text) or low in ("inf", "-inf", "nan"):
        return float(text.replace("_", ""))
    return text


def split_line(magic: str, line: str) -> tuple[str, dict, list]:
    """``"X --perplexity 30 --run"`` -> ``("X", {"perplexity": "30", "run": True}, order)``."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%{magic}: cannot read the line ({exc}).") from None
    if not words or words[0].startswith("-"):
        raise UsageError(f"%{magic}: give the data first, e.g. `%{magic} X --labels y`.")
    data, rest = words[0], words[1:]
    options, order = {}, []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word in ("-o", "--output"):
            name = "output"
        elif word.startswith("--") and len(word) > 2:
            name = word[2:].replace("-", "_")
        else:
            raise UsageError(f"%{magic}: unexpected {word!r}; options look like "
                             f"`--perplexity 30` (one value per option).")
        if not name.isidentifier():
            raise UsageError(f"%{magic}: {word!r} is not a valid option name.")
        if name in options:
            raise UsageError(f"%{magic}: {word} is given twice.")
        has_value = i + 1 < len(rest) and not (rest[i + 1].startswith("--") or rest[i + 1] == "-o")
        options[name] = rest[i + 1] if has_value else True
        order.append(name)
        i += 2 if has_value else 1
    return data, options, order


@magics_class
class VAEWidgetsMagics(Magics):
    """``%tsne`` and ``%vae``: build a widget from names in the notebook's namespace."""

    def _eval(self, magic: str, what: str, expr: str):
        try:
            return self.shell.ev(expr)
        except NameError as exc:
            raise UsageError(f"%{magic}: {what} {expr!r}: {exc}; define it first.") from None
        except Exception as exc:       # a typo in an expression: say which one
            raise UsageError(f"%{magic}: {what} {expr!r} could not be evaluated: "
                             f"{type(exc).__name__}: {exc}") from None

    def _build(self, magic: str, line: str, flags: tuple[str, ...]):
        data, options, _ = split_line(magic, line)
        X = self._eval(magic, "data", data)
        kwargs = {}
        if "labels" in options:
            if options["labels"] is True:
                raise UsageError(f"%{magic}: --labels needs a value, e.g. `--labels y`.")
            kwargs["labels"] = self._eval(magic, "--labels", options.pop("labels"))
        output = options.pop("output", f"_{magic}")
        if output is True or not str(output).isidentifier():
            raise UsageError(f"%{magic}: -o needs a variable name, e.g. `-o w`.")
        chosen = {f: parse_value(v) is True if isinstance(v, str) else v is True
                  for f in flags if f in options for v in [options.pop(f)]}
        for name, raw in options.items():
            kwargs[name] = True if raw is True else parse_value(raw)
        return X, kwargs, output, chosen

    def _make(self, magic: str, cls, X, kwargs):
        try:
            return cls(X, **kwargs)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"%{magic}: {exc}") from None

    @line_magic
    def tsne(self, line: str):
        """``%tsne X [--labels y] [--image-shape H,W] [--param value ...] [--run] [-o name]``

        Make a :class:`~vae_widgets.TSNEWidget`, keep it in ``_tsne`` (or ``name``)
        and return it (shown when the magic ends the cell). ``--run`` starts it.
        """
        from .widgets.tsne_widget import TSNEWidget

        X, kwargs, output, flags = self._build("tsne", line, ("run",))
        w = self._make("tsne", TSNEWidget, X, kwargs)
        self.shell.user_ns[output] = w
        if flags.get("run"):
            w.run()
        return w

    @line_magic
    def vae(self, line: str):
        """``%vae X [--labels y] [--image-shape H,W] [--latent-dim K] [--epochs N] [--train] [-o name]``

        Make a :class:`~vae_widgets.VAEWidget`, keep it in ``_vae`` (or ``name``) and
        return it. ``--train`` starts training ``--epochs`` epochs at once.
        """
        from .widgets.vae_widget import VAEWidget

        X, kwargs, output, flags = self._build("vae", line, ("train",))
        w = self._make("vae", VAEWidget, X, kwargs)
        self.shell.user_ns[output] = w
        if flags.get("train"):
            w.train()
        return w


def load_ipython_extension(ipython) -> None:
    """Called by ``%load_ext vae_widgets``: register ``%tsne`` and ``%vae``."""
    ipython.register_magics(VAEWidgetsMagics)
