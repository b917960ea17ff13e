"""A widget made at module level in a Solara app, closed by Solara: running it says what
happened and what to do in Solara (make it inside the component with ``solara.use_memo``).

Solara (1.64) runs an app's module once at start-up in a virtual kernel context of its own
and then closes that context, which closes every widget the module made
(``ipywidgets.Widget.close_all()`` in ``solara.server.kernel_context``). The test loads a
real app script the way ``solara run`` does (``solara.server.app.AppScript(...).init()``),
in a subprocess: importing ``solara.server.app`` patches ipywidgets for the whole process.
(A page in Chromium, with the widget made the right way: tests/browser/test_solara_browser.py.)
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

# not imported here: importing solara hooks into ipywidgets for the whole process (it then
# holds on to every widget made after, which tests/test_lifecycle.py would see)
if importlib.util.find_spec("solara") is None:
    pytest.skip("solara is not installed", allow_module_level=True)

APP = '''\
import sys

import numpy as np
import solara
from vae_widgets import TSNEWidget

t = TSNEWidget(np.random.default_rng(0).normal(size=(60, 4)), n_jobs=1, perplexity=10)
sys.vw_made = t      # (for the test: the widget the module made)


@solara.component
def Page():
    solara.display(t)
'''

LOAD = '''\
import json, sys
from solara.server import app as solara_app

solara_app.AppScript(sys.argv[1]).init()       # what `solara run app.py` does first
w = sys.vw_made
try:
    w.run()
    message = None
except RuntimeError as exc:
    message = str(exc)
print(json.dumps({"closed": w.comm is None, "message": message}))
'''


def test_a_module_level_widget_closed_by_solara_says_make_it_with_use_memo(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = dict(os.environ, SOLARA_HOME=str(tmp_path / "solara-home"),
               SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(LOAD), str(app)], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["closed"], "Solara no longer closes a widget made at module level"
    message = got["message"] or ""
    assert message.startswith("this TSNEWidget was closed by Solara, not by your code."), message
    assert "module level is closed before any page shows it" in message, message
    assert "In Solara, make the widget inside the component with solara.use_memo(" in message
