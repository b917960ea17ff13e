"""The ``vae-widgets`` command line: real subprocesses for errors and a small report."""
import pathlib
import subprocess
import sys

import pytest

from vae_widgets import cli

BIN = pathlib.Path(sys.executable).parent


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "vae_widgets", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["report", "--data", "mnist"], "not one of digits, shapes, blobs"),
    (["report", "--data", "nowhere/x.npy"], "no such file"),
    (["report", "--data", "digits", "--epochs", "0"], "--epochs: '0' must be at least 1"),
    (["report", "--data", "digits", "--epochs", "many"], "'many' is not a whole number"),
    (["report", "--data", "digits", "--image-shape", "8"], "is not a shape such as 8,8"),
    (["report", "--data", "digits", "--out", "no/such/dir/r.html"], "existing folder"),
    (["report"], "the following arguments are required: --data"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message):
    r = run(*args, timeout=120)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_console_script_is_installed_and_shares_the_parser():
    exe = BIN / "vae-widgets"
    assert exe.exists(), "run `pip install -e . --no-deps` so the console script exists"
    r = subprocess.run([str(exe), "report", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--latent-dim" in r.stdout and "--tsne-iter" in r.stdout
    assert r.stdout.startswith("usage: vae-widgets report")
    r = run("demo", "--help")
    assert r.returncode == 0 and "--no-browser" in r.stdout and "--headless" in r.stdout
    assert r.stdout.startswith("usage: python -m vae_widgets demo")


def test_report_writes_one_offline_html(tmp_path):
    out = tmp_path / "report.html"
    r = run("report", "--data", "digits", "-n", "300", "--epochs", "1", "--latent-dim", "2",
            "--tsne-iter", "60", "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"wrote {out}" in r.stdout and "s CPU" in r.stdout
    assert "VAE training" in r.stderr and "t-SNE of latent means" in r.stderr   # progress bars
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text and "cdn.bokeh.org" not in text
    for heading in ("VAE training", "t-SNE of the data", "latent means"):
        assert heading in text
    assert text.count("data:image/png;base64,") >= 600      # thumbnails in both scatters


def test_headless_demo_prints_the_kl(tmp_path):
    r = run("demo", "--headless", "--tsne-iter", "30")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "[done]" in r.stdout and "KL" in r.stdout and "timings:" in r.stdout


def test_demo_copies_notebooks_and_builds_the_lab_command(tmp_path):
    copied = cli.copy_notebooks(tmp_path / "demo")
    names = [p.name for p in copied]
    assert "01_quickstart.ipynb" in names
    (tmp_path / "demo" / "01_quickstart.ipynb").write_text("{}")     # a user's edits survive
    assert "01_quickstart.ipynb" not in [p.name for p in cli.copy_notebooks(tmp_path / "demo")]
    assert (tmp_path / "demo" / "01_quickstart.ipynb").read_text() == "{}"
    cmd = cli.lab_command(tmp_path / "demo", 9999, browser=False)
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"] and "--port=9999" in cmd
    assert "--no-browser" in cmd and any("01_quickstart.ipynb" in c for c in cmd)
    assert "--no-browser" not in cli.lab_command(tmp_path, 1)


def test_text_progress_bar_without_tqdm(capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name == "tqdm":
            raise ImportError("no tqdm")
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    bar = cli.Progress(10, "work")
    for i in range(11):
        bar.update_to(i, f"step {i}")
    bar.close()
    err = capsys.readouterr().err
    assert "[" + "#" * 30 + "] 100.0%" in err and "step 10" in err and err.endswith("\n")
