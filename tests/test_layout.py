"""The package's layout, read from its imports: no circle, and no import that runs back
up a layer (docs/how-it-works.md, "Layers"). Every import counts, also those inside a
function (a lazy import is still a dependency)."""
import ast
import pathlib

import vae_widgets

ROOT = pathlib.Path(vae_widgets.__file__).parent

#: lowest first; a module may import its own layer and the layers below it
LAYERS = [
    ("foundation", ["_schema", "_validation", "_openmp", "_threads", "_stream", "_producer",
                    "_images", "_anndata", "_runs", "datasets", "tables"]),
    ("engines", ["tsne", "vae"]),
    ("export", ["export"]),
    ("bridge", ["bridge"]),
    ("cli", ["cli", "__main__"]),
    ("training libraries", ["lightning", "pythae"]),
    ("widgets", ["widgets"]),
    ("front door", ["magics", ""]),          # "": the package's __init__
]


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(name: str) -> set:
    """The package's modules that module ``name`` imports (anywhere in it)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
            # "from . import wire" names the module wire, not the package
            found.update(subs if subs else [target] if target in MODULES else [])
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
    found.discard(name)
    return found


GRAPH = {name: imports(name) for name in MODULES}


def layer_of(name: str) -> int:
    rest = name[len("vae_widgets"):].lstrip(".")
    top = rest.split(".", 1)[0]
    for i, (_, tops) in enumerate(LAYERS):
        if top in tops:
            return i
    raise AssertionError(f"{name}: in no layer of tests/test_layout.py (add it there and to "
                         f"docs/how-it-works.md)")


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_import_runs_back_up_a_layer():
    up = [f"{a} ({LAYERS[layer_of(a)][0]}) -> {b} ({LAYERS[layer_of(b)][0]})"
          for a, targets in GRAPH.items() for b in targets if layer_of(b) > layer_of(a)]
    assert not up, "imports that run back up:\n" + "\n".join(sorted(up))


def test_the_two_engines_know_nothing_of_each_other_or_of_widgets():
    for a, targets in GRAPH.items():
        for engine, other in (("tsne", "vae"), ("vae", "tsne")):
            if a.startswith(f"vae_widgets.{engine}"):
                assert not [b for b in targets if b.startswith(f"vae_widgets.{other}")], a


def test_no_circle():
    # a package's __init__ re-exporting its own modules is not a circle through them
    def edges(a):
        return [b for b in GRAPH[a] if not (a.startswith(b + ".") and MODULES[b].name ==
                                             "__init__.py")]

    state, circles = {}, []

    def visit(a, path):
        state[a] = "open"
        for b in edges(a):
            if state.get(b) == "open":
                circles.append(path[path.index(b):] + [b])
            elif b not in state:
                visit(b, path + [b])
        state[a] = "done"

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [name])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_every_import_of_the_package_names_one_of_its_modules():
    # a lazy import inside a function fails only when it runs: catch a wrong path here
    names = set(MODULES)
    bad = []
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if target not in names:
                    bad.append(f"{name}: from {'.' * node.level}{node.module or ''} import ...")
    assert not bad, "\n".join(bad)


def test_the_walk_sees_imports():
    # (the walk itself: a test that cannot fail is no test)
    assert "vae_widgets.widgets.traits" in GRAPH["vae_widgets.widgets.table_view"]
    assert "vae_widgets.bridge.wire" in GRAPH["vae_widgets.bridge.job"]
    assert "vae_widgets._images" in GRAPH["vae_widgets.cli"]         # inside a function


def test_moved_names_still_import_from_their_old_places_with_a_warning():
    import warnings

    from vae_widgets import _images, tables
    from vae_widgets.bridge import remote_tsne as bridge_tsne
    from vae_widgets.bridge import remote_vae
    from vae_widgets.widgets import _frames, _serialization, linking, listen, remote, traits
    from vae_widgets.tsne import table as tsne_table
    from vae_widgets.vae import history, monitor, window
    from vae_widgets.widgets import remote_tsne as widgets_tsne

    for module, name, new in [(linking, "RowIndices", traits.RowIndices),
                              (linking, "RowIndex", traits.RowIndex),
                              (linking, "check_rows", traits.check_rows),
                              (traits, "Indices", traits.RowIndices),
                              (traits, "encode_frame", _frames.encode_frame),
                              (traits, "decode_frame", _frames.decode_frame),
                              (remote, "RemoteVAE", remote_vae.RemoteVAE),
                              (remote, "MonitorRecord", remote_vae.MonitorRecord),
                              (remote, "listen_vae", listen.listen_vae),
                              (widgets_tsne, "RemoteTSNE", bridge_tsne.RemoteTSNE),
                              (widgets_tsne, "listen_tsne", listen.listen_tsne),
                              (_serialization, "as_uint8_images", _images.as_uint8_images),
                              (tsne_table, "PointTable", tables.PointTable),
                              (tsne_table, "split_table", tables.split_table),
                              (monitor, "METRIC_COLUMNS", history.METRIC_COLUMNS),
                              (monitor, "fold_steps", window.fold_steps)]:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert getattr(module, name) is new
        assert any(issubclass(w.category, DeprecationWarning) and name in str(w.message)
                   for w in seen), (module.__name__, name)


def private_writes_on_others(tree: ast.AST) -> list:
    """``x._name = ...`` and ``x._set_traits(...)`` where ``x`` is not ``self``/``cls``."""
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "_set_traits"):
            targets = [node.func]
        for t in targets:
            for a in ast.walk(t):
                if (isinstance(a, ast.Attribute) and a.attr.startswith("_")
                        and not a.attr.startswith("__") and isinstance(a.value, ast.Name)
                        and a.value.id in ("w", "widget", "vae", "tsne", "view")):
                    found.append(f"line {a.lineno}: {a.value.id}.{a.attr}")
    return found


def test_only_a_widget_writes_its_own_state():
    """The job stand-ins, the link and the linked views publish news or call public
    methods; the widget decides what its traits and producer become (a remote proxy that
    wrote ``w._set_traits``/``w._producer`` is what this guards against)."""
    bad = {}
    for path in sorted((ROOT / "widgets").glob("*.py")):
        found = private_writes_on_others(ast.parse(path.read_text()))
        if found:
            bad[path.name] = found
    assert not bad, bad


def test_the_private_write_finder_finds_them():
    tree = ast.parse("w._producer = r\nwidget._set_traits(status='x')\nself._a = 1\n")
    assert private_writes_on_others(tree) == ["line 1: w._producer", "line 2: widget._set_traits"]


#: modules tested under another file's name: where (paths under tests/), and why there
HOMES = {
    "__main__": ["test_cli.py"],                       # ``python -m vae_widgets`` is the CLI
    "_images": ["export/test_export.py", "widgets/test_linking.py"],   # thumbnails, grids
    "_openmp": ["test_threads.py"],                    # thread teams are what it is about
    "_schema": ["widgets/test_listen.py", "widgets/test_tsne_widget.py"],  # the messages sent
    "_validation": ["test_lifecycle_inputs.py", "test_inputs_user_data.py"],   # every refusal
    "bridge/codec": ["bridge/test_wire.py"],
    "bridge/job": ["bridge/test_link.py", "bridge/test_security.py"],
    "bridge/listener": ["bridge/test_link.py", "bridge/test_security.py"],
    "bridge/remote": ["bridge/test_link.py"],
    "bridge/transport": ["bridge/test_link.py", "bridge/test_security.py"],
    "bridge/remote_tsne": ["widgets/test_listen.py", "bridge/test_run_tsne.py"],
    "bridge/remote_vae": ["lightning/test_callbacks.py", "lightning/test_jobs.py"],
    "export/_common": ["export/test_export.py"],       # the package is tested as a whole
    "export/_images": ["export/test_export.py"],
    "export/_tsne": ["export/test_export.py"],
    "export/_vae": ["export/test_export.py"],
    "lightning/steering": ["lightning/test_callbacks.py", "lightning/test_jobs.py"],  # real DDP
    "lightning/steps": ["lightning/test_callbacks.py"],
    "tsne/history": ["tsne/test_analysis.py"],
    "tsne/knn": ["tsne/test_runner.py"],
    "tsne/params": ["tsne/test_inputs.py"],
    "tsne/table": ["test_layout.py"],                  # moved names only
    "tables/reading": ["widgets/test_table_view.py", "test_inputs_user_data.py"],  # via widgets
    "tables/point_table": ["widgets/test_table_view.py"],   # hover, search, rows shown
    "vae/callbacks": ["vae/test_diagnostics.py"],      # DivergenceGuard restores weights
    "vae/checkpoint": ["vae/test_trainer.py"],         # save/load, unsafe files, a full disk
    "vae/config": ["vae/test_data.py", "vae/test_trainer.py"],
    "vae/dataspace": ["vae/test_trainer.py", "vae/test_anomaly.py"],
    "vae/history": ["vae/test_trainer.py", "lightning/test_jobs.py"],   # columns, remote record
    "vae/model": ["vae/test_trainer.py"],
    "vae/monitor": ["vae/test_watch.py", "vae/test_diagnostics.py"],
    "vae/ownership": ["test_threads.py", "vae/test_trainer.py"],   # thread hand-off, counts
    "vae/schedules": ["vae/test_objective.py"],
    "widgets/_base": ["test_lifecycle.py", "test_lifecycle_interrupt.py"],
    "widgets/_cells": ["test_kernel.py"],              # needs a real kernel's cells
    "widgets/_frames": ["widgets/test_table_view.py", "widgets/test_sweep_widget.py"],
    "widgets/_front_ends": ["widgets/test_panel_host.py"],   # the front end it feeds: Panel
    "widgets/_serialization": ["widgets/test_vae_widget.py"],
    "widgets/remote": ["test_layout.py"],              # moved names only
    "widgets/remote_tsne": ["test_layout.py"],
    "widgets/traits": ["test_lifecycle_inputs.py", "widgets/test_table_view.py"],
    "widgets/vae_events": ["widgets/test_vae_widget.py"],
}
TESTS = pathlib.Path(__file__).resolve().parent


def test_tests_mirror_the_package():
    """Every module has a test file of its name where the package has it
    (``vae/trainer.py`` -> ``tests/vae/test_trainer.py``) or a stated home in HOMES."""
    have = {p.relative_to(TESTS).as_posix() for p in TESTS.rglob("test_*.py")}
    missing, stale = [], []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.name == "__init__.py" or rel.parts[0] == "_notebooks":
            continue
        key = rel.with_suffix("").as_posix()
        own = rel.with_name(f"test_{rel.stem.lstrip('_')}.py").as_posix()
        if own in have:
            continue
        if key not in HOMES:
            missing.append(f"{rel} (no {own})")
        else:
            stale += [f"{key}: {h}" for h in HOMES[key] if h not in have]
    assert not missing, "modules with no test file of their name and no home in HOMES: " + \
        ", ".join(missing)
    assert not stale, f"HOMES names test files that do not exist: {stale}"


#: the most lines a module has without a stated reason (docstrings count: they are read too)
ROOM_LINES = 500
#: modules over ROOM_LINES, and why each stays one room
LONG_ROOMS = {
    "vae/trainer.py": "the training loop and the run state every step reads and writes "
                      "(step, epoch, pending edits, pause, divergence restore); its other "
                      "jobs left: data.py, ownership.py, checkpoint.py, objective.py, "
                      "schedules.py, monitor.py",
    "tsne/runner.py": "openTSNE's pipeline in run order (preprocess, initial layout, "
                      "affinities, the hooked gradient that streams, pauses and edits) plus "
                      "what the finished map answers (transform, drift, evaluate), which "
                      "reads the same cached stages; knn, params, metrics, history left",
    "widgets/vae_widget.py": "the public VAEWidget: three constructors, the own-loop API and "
                             "the data-space methods, each a few lines handing on to the "
                             "engine; event handling is vae_events.py, the hook _cells.py",
    "widgets/tsne_widget.py": "the public TSNEWidget: traits, its handlers and new points, "
                              "each a few lines handing on to the runner; table view, frames "
                              "and sweep live in their own modules",
}


def test_no_room_is_over_the_line_count_without_a_stated_reason():
    """A module over ROOM_LINES lines is in LONG_ROOMS with its reason, and a reason goes
    when its module shrinks under the line (JS modules too: the bundle's sources)."""
    sources = [(p.relative_to(ROOT).as_posix(), p) for p in ROOT.rglob("*.py")]
    js = ROOT.parent / "js" / "src"
    sources += [(p.relative_to(js.parent).as_posix(), p) for p in js.rglob("*.js")]
    lines = {name: len(p.read_text().splitlines()) for name, p in sources}
    over = sorted(f"{n} ({c})" for n, c in lines.items() if c > ROOM_LINES and n not in LONG_ROOMS)
    stale = sorted(n for n in LONG_ROOMS if lines.get(n, 0) <= ROOM_LINES)
    assert not over, f"modules over {ROOM_LINES} lines with no reason in LONG_ROOMS: {over}"
    assert not stale, f"LONG_ROOMS names modules no longer over {ROOM_LINES} lines: {stale}"
