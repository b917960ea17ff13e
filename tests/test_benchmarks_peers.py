"""benchmarks/peers.py at a tiny size: every peer that ran has its row, and the ratios in
the table are the ones the measured numbers give (no speed is asserted)."""
import os
import statistics
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, HERE)
peers = pytest.importorskip("peers")

pytestmark = pytest.mark.slow


def _row(lines, label):
    rows = [x for x in lines if x.startswith(f"| {label} |")]
    assert len(rows) == 1, (label, lines)
    return [c.strip() for c in rows[0].strip("|").split("|")]


def test_tsne_peers_table_has_every_run_and_its_ratios(tmp_path):
    res = peers.tsne_section([300], 2, ["ours", "opentsne-knn"], 1, str(tmp_path),
                             iters=(10, 10), log=lambda s: None)
    runs = res["sizes"][300]
    assert {p: len(v) for p, v in runs.items()} == {"ours": 2, "opentsne-knn": 2}
    for v in runs.values():
        for r in v:
            assert r["seconds"] > 0 and r["peak_mb"] > 0 and 0.5 < r["trust"] <= 1.0
    assert all(r["frames"] >= 1 for r in runs["ours"])       # the front end acked frames
    lines = peers.tsne_table(res)
    cells = _row(lines, peers.TSNE_LABELS["opentsne-knn"])
    ratios = [b["seconds"] / a["seconds"] for a, b in zip(runs["ours"], runs["opentsne-knn"])]
    assert cells[2] == " / ".join(f"{x:.3f}" for x in
                                  (min(ratios), statistics.median(ratios), max(ratios)))
    assert _row(lines, peers.TSNE_LABELS["ours"])[2] == "1.000 / 1.000 / 1.000"
    assert any("ours / openTSNE with our kNN" in x for x in lines)


def test_vae_table_ratios_are_per_round_against_the_plain_loop():
    res = peers.vae_section(2, 1, ["plain", "plain-again", "watch"], rows=512,
                            log=lambda s: None)
    runs = res["runs"]
    lines = peers.vae_table(res)
    for v in ("plain", "plain-again", "watch"):
        assert len(runs[v]) == 2
        cells = _row(lines, peers.VAE_LABELS[v])
        r = [a["rate"] / b["rate"] for a, b in zip(runs[v], runs["plain"])]
        assert cells[2] == " / ".join(f"{x:.3f}" for x in (min(r), statistics.median(r), max(r)))
    assert any(x.startswith("- resolution:") for x in lines)


def test_write_section_replaces_only_its_own_mode(tmp_path):
    path = str(tmp_path / "peers.md")
    peers.write_section(path, "quick", ["quick one"])
    peers.write_section(path, "full", ["full one"])
    peers.write_section(path, "quick", ["quick two"])
    text = open(path).read()
    assert "quick two" in text and "full one" in text and "quick one" not in text
    assert "jupyter-scatter" in text          # the skipped view part is said
