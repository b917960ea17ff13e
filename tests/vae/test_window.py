"""vae/window.py: a window of per-step terms folded on the device equals the same sums
taken step by step, whatever form each producer hands the terms in."""
import pytest
import torch

from vae_widgets.vae.objective import kl_per_dim
from vae_widgets.vae.window import fold_steps, kl_rows, recon_means, scalars


def _steps(batch_sizes, latent=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for b in batch_sizes:
        mu = torch.randn(b, latent, generator=g)
        lv = torch.randn(b, latent, generator=g) * 0.3
        recon = torch.rand(b, generator=g) * 10          # a per-row reconstruction term
        out.append((recon, mu, lv))
    return out


def _by_hand(steps):
    recon = sum(float(r.mean()) for r, _, _ in steps)
    kl = sum(float(kl_per_dim(m, v).sum()) for _, m, v in steps)
    return recon, kl


@pytest.mark.parametrize("batch_sizes", [[8, 8, 8, 8], [8, 8, 5]],
                         ids=["one batch size", "a short last batch"])
def test_a_window_of_mu_logvar_pairs_folds_to_the_step_by_step_sums(batch_sizes):
    steps = _steps(batch_sizes)
    got = fold_steps([(r, (m, v)) for r, m, v in steps])
    assert got.shape == (2,)
    assert got.tolist() == pytest.approx(_by_hand(steps), rel=1e-5)


def test_per_dimension_kl_tensors_scalar_recons_and_floats_fold_alike():
    steps = _steps([6, 6, 6])
    recon, kl = _by_hand(steps)
    as_tensors = [(r.mean(), kl_per_dim(m, v)) for r, m, v in steps]
    as_floats = [(float(r.mean()), kl_per_dim(m, v)) for r, m, v in steps]
    mixed = [(steps[0][0], (steps[0][1], steps[0][2])),          # a loop that changed forms
             *[(r.mean(), kl_per_dim(m, v)) for r, m, v in steps[1:]]]
    for window in (as_tensors, as_floats, mixed):
        assert fold_steps(window).tolist() == pytest.approx([recon, kl], rel=1e-5)


def test_the_helpers_keep_one_value_per_step():
    steps = _steps([4, 4, 3])
    rows = kl_rows([(m, v) for _, m, v in steps])
    assert [r.shape for r in rows] == [torch.Size([3])] * 3
    for row, (_, m, v) in zip(rows, steps):
        assert row.tolist() == pytest.approx(kl_per_dim(m, v).tolist(), rel=1e-5)
    means = recon_means([r for r, _, _ in steps], torch.device("cpu"))
    assert means.tolist() == pytest.approx([float(r.mean()) for r, _, _ in steps], rel=1e-6)
    assert scalars([1, 2.5, torch.tensor(3.0)], "cpu").tolist() == [1.0, 2.5, 3.0]
    assert scalars([torch.tensor([1.0, 3.0]), 4], "cpu").tolist() == [2.0, 4.0]
