"""``%load_ext vae_widgets``: the %tsne and %vae line magics in a real IPython shell."""
import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from vae_widgets import TSNEWidget, VAEWidget, datasets
from vae_widgets.magics import parse_value, split_line


@pytest.fixture
def ip(fake_comm):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "vae_widgets")
    X, y = datasets.digits()
    shell.user_ns.update(X=X[:200], y=y[:200])
    yield shell
    for name in ("_tsne", "_vae", "t", "v"):
        w = shell.user_ns.pop(name, None)
        if w is not None and w.running:
            w.stop()
            w.wait(30)


def test_tsne_magic_builds_stores_and_passes_parameters(ip):
    w = ip.run_line_magic("tsne", "X --labels y --perplexity 12 --n-iter 80 --standardize true")
    assert isinstance(w, TSNEWidget) and ip.user_ns["_tsne"] is w
    assert w.perplexity == 12.0 and w.params.n_iter == 80 and w.params.standardize is True
    assert w.n_points == 200 and w.color_kind == "categorical" and w.status == "idle"
    # expressions work for data and labels; -o names the variable; --run starts it
    t = ip.run_line_magic("tsne", "X[:100] --labels y[:100] --image-shape 8,8 "
                                  "--early-exaggeration-iter 20 --n-iter 20 --run -o t")
    assert ip.user_ns["t"] is t and t.n_points == 100 and list(t.image_shape) == [8, 8]
    t.wait(120)
    assert t.status == "done" and t.runner.embedding.shape == (100, 2)


def test_magic_result_is_displayed_by_run_cell(ip):
    res = ip.run_cell("%tsne X --labels y")
    assert res.success and isinstance(res.result, TSNEWidget)
    res = ip.run_cell("%tsne nothing_here")
    assert not res.success and isinstance(res.error_in_exec, UsageError)


def test_vae_magic(ip):
    v = ip.run_line_magic("vae", "X --labels y --image-shape 8,8 --latent-dim 3 --epochs 1 "
                                 "--hidden 32,16 --train -o v")
    assert isinstance(v, VAEWidget) and ip.user_ns["v"] is v
    assert v.latent_dim == 3 and v.epochs == 1
    v.wait(120)
    assert v.status == "done" and len(v.epoch_history) == 1


@pytest.mark.parametrize("line, message", [
    ("tsne nothing_here", "data 'nothing_here': name 'nothing_here' is not defined"),
    ("tsne X --labels nope", "--labels 'nope': name 'nope' is not defined"),
    ("tsne X --labels", "--labels needs a value"),
    ("tsne X --perplexity lots", "perplexity"),
    ("tsne X --perplexityy 30", "perplexityy"),
    ("tsne X 30", "unexpected '30'"),
    ("tsne --labels y", "give the data first"),
    ("tsne X --n-iter 5 --n-iter 6", "given twice"),
    ("tsne X -o", "-o needs a variable name"),
    ("tsne X[ --labels y", "could not be evaluated"),
    ("vae X --latent-dim 0", "latent_dim"),
    ("vae X --nonsense 1", "nonsense"),
    ("tsne X --label-name 'a b", "cannot read the line"),
])
def test_mistakes_raise_usage_error(ip, line, message):
    magic, rest = line.split(" ", 1)
    with pytest.raises(UsageError, match=None) as info:
        ip.run_line_magic(magic, rest)
    assert message in str(info.value)
    assert str(info.value).startswith(f"%{magic}: ")


def test_value_parsing():
    assert parse_value("30") == 30 and isinstance(parse_value("30"), int)
    assert parse_value("1e-3") == 0.001 and parse_value("-2.5") == -2.5
    assert parse_value("True") is True and parse_value("false") is False
    assert parse_value("none") is None and parse_value("8,8") == (8, 8)
    assert parse_value("cosine") == "cosine" and parse_value("1_000") == 1000
    assert split_line("tsne", "X --run --metric cosine -o w") == (
        "X", {"run": True, "metric": "cosine", "output": "w"}, ["run", "metric", "output"])
    assert split_line("tsne", "X --shift -1")[1] == {"shift": "-1"}


def test_extension_loads_from_the_package_without_heavy_imports():
    import subprocess
    import sys
    code = ("import sys, vae_widgets; assert callable(vae_widgets.load_ipython_extension); "
            "print('torch' in sys.modules, 'IPython' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
