"""Loss terms, KL, free bits and beta schedules against hand-computed values."""
import math

import pytest
import torch

from vae_widgets.vae import objective as obj
from vae_widgets.vae import schedules as sch

LOG_2PI = math.log(2 * math.pi)
t = torch.tensor


# --- reconstruction terms ---------------------------------------------------------------
def test_bernoulli_nll_sums_features_and_averages_batch():
    # row 0: logits 0 -> p = 0.5 for both features: 2 * log 2
    # row 1: logit 2 with x = 1 -> log(1 + e^-2); logit -1 with x = 0 -> log(1 + e^-1)
    logits = t([[0.0, 0.0], [2.0, -1.0]])
    x = t([[1.0, 0.0], [1.0, 0.0]])
    row0 = 2 * math.log(2)
    row1 = math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))
    assert obj.bernoulli_nll(logits, x).item() == pytest.approx((row0 + row1) / 2, rel=1e-6)


def test_gaussian_fixed_variance():
    mean, x = t([[0.0, 0.0]]), t([[1.0, 2.0]])
    # sigma = 1: 0.5 * (1 + 4) + 0.5 * 2 * log(2 pi)
    assert obj.gaussian_nll(mean, x, 0.0).item() == pytest.approx(2.5 + LOG_2PI, rel=1e-6)
    # sigma = 2: 0.5 * (5 / 4) + 0.5 * 2 * (log 4 + log 2 pi)
    lik = obj.Likelihood("gaussian", std=2.0)
    expect = 0.625 + math.log(4) + LOG_2PI
    assert lik.nll(mean, x).item() == pytest.approx(expect, rel=1e-6)
    # batch mean: a second, perfect row contributes only the constant
    mean2, x2 = t([[0.0, 0.0], [1.0, 1.0]]), t([[1.0, 2.0], [1.0, 1.0]])
    assert obj.gaussian_nll(mean2, x2, 0.0).item() == pytest.approx(
        (2.5 + LOG_2PI + LOG_2PI) / 2, rel=1e-6)


def test_gaussian_learned_variance_per_feature():
    mean, x = t([[0.0, 0.0]]), t([[1.0, 2.0]])
    log_var = t([0.0, math.log(4.0)])
    # 0.5 * (1/1 + 4/4 + 0 + log 4 + 2 log 2 pi)
    expect = 0.5 * (2.0 + math.log(4.0) + 2 * LOG_2PI)
    lik = obj.Likelihood("gaussian_learned")
    assert lik.nll(mean, x, log_var).item() == pytest.approx(expect, rel=1e-6)
    # gradient w.r.t. the log-variance: 0.5 * (1 - r^2 / s^2) per feature -> 0 here
    lv = log_var.clone().requires_grad_()
    lik.nll(mean, x, lv).backward()
    assert torch.allclose(lv.grad, torch.zeros(2), atol=1e-6)


def test_kl_closed_form_per_dimension():
    mu = t([[1.0, 0.0], [0.0, 0.0]])
    logvar = t([[0.0, math.log(0.25)], [0.0, 0.0]])
    # dim 0: row0 0.5*(1 + 1 - 1 - 0) = 0.5, row1 0 -> mean 0.25
    # dim 1: row0 0.5*(0 + 0.25 - 1 - log 0.25), row1 0
    d1 = 0.5 * (0.25 - 1 - math.log(0.25))
    klpd = obj.kl_per_dim(mu, logvar)
    assert klpd.tolist() == pytest.approx([0.25, d1 / 2], rel=1e-6)
    # matches torch.distributions
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert torch.allclose(klpd, torch.distributions.kl_divergence(q, p).mean(0), atol=1e-6)


def test_free_bits_floor_per_dimension():
    klpd = t([0.05, 0.5, 0.0], requires_grad=True)
    term = obj.kl_term(klpd, free_bits=0.1)
    assert term.item() == pytest.approx(0.1 + 0.5 + 0.1)
    term.backward()
    # dimensions under the floor get no gradient, the others the full one
    assert klpd.grad.tolist() == [0.0, 1.0, 0.0]
    assert obj.kl_term(t([0.05, 0.5]), 0.0).item() == pytest.approx(0.55)


def test_negative_elbo_combines_terms_with_beta():
    logits, x = t([[0.0, 0.0]]), t([[1.0, 0.0]])
    mu, logvar = t([[1.0, 0.0]]), t([[0.0, 0.0]])
    lik = obj.Likelihood("bernoulli")
    loss, recon, klpd = obj.negative_elbo(logits, x, mu, logvar, lik, beta=2.0)
    assert recon.item() == pytest.approx(2 * math.log(2), rel=1e-6)
    assert klpd.tolist() == pytest.approx([0.5, 0.0])
    assert loss.item() == pytest.approx(2 * math.log(2) + 2.0 * 0.5, rel=1e-6)
    loss_fb, _, _ = obj.negative_elbo(logits, x, mu, logvar, lik, beta=2.0, free_bits=0.25)
    assert loss_fb.item() == pytest.approx(2 * math.log(2) + 2.0 * (0.5 + 0.25), rel=1e-6)


def test_likelihood_mean_and_unknown_kind():
    assert obj.Likelihood("bernoulli").mean(t([0.0])).item() == 0.5
    assert obj.Likelihood("gaussian").mean(t([3.0])).item() == 3.0
    with pytest.raises(ValueError, match="likelihood"):
        obj.Likelihood("poisson")


# --- schedules -------------------------------------------------------------------------------
def test_constant_and_linear_schedules():
    assert sch.beta_factor("constant", 123.0) == 1.0
    assert sch.beta_factor("linear", 0.0, warmup=10) == 0.0
    assert sch.beta_factor("linear", 5.0, warmup=10) == 0.5
    assert sch.beta_factor("linear", 12.0, warmup=10) == 1.0
    assert sch.beta_factor("linear", 3.0, warmup=0) == 1.0


def test_cyclical_schedule_values():
    kw = dict(total=8, n_cycles=4, ratio=0.5)     # period 2, ramp over the first epoch
    f = lambda t_: sch.beta_factor("cyclical", t_, **kw)  # noqa: E731
    assert [f(v) for v in (0, 0.5, 1.0, 1.5, 1.99)] == pytest.approx([0, 0.5, 1, 1, 1])
    assert f(2.0) == 0.0 and f(2.25) == pytest.approx(0.25)
    assert f(7.5) == 1.0
    assert f(9.0) == 1.0 and f(8.5) == pytest.approx(0.5)   # keeps cycling after `total`
    assert sch.warmup_end("cyclical", total=8, n_cycles=4, ratio=0.5) == 1.0
    assert sch.warmup_end("linear", warmup=3) == 3
    assert sch.warmup_end("constant") == 0


def _fu_frange_cycle_linear(n_iter, start=0.0, stop=1.0, n_cycle=4, ratio=0.5):
    """The reference implementation from Fu et al. 2019 (github.com/haofuml/cyclical_annealing)."""
    L = [stop] * n_iter
    period = n_iter / n_cycle
    step = (stop - start) / (period * ratio)
    for c in range(n_cycle):
        v, i = start, 0
        while v <= stop and (int(i + c * period) < n_iter):
            L[int(i + c * period)] = v
            v += step
            i += 1
    return L


@pytest.mark.parametrize("n_iter,n_cycle,ratio", [(100, 4, 0.5), (120, 3, 0.8), (64, 2, 0.25)])
def test_cyclical_matches_fu_et_al_reference(n_iter, n_cycle, ratio):
    ref = _fu_frange_cycle_linear(n_iter, n_cycle=n_cycle, ratio=ratio)
    ours = [sch.beta_factor("cyclical", i, total=n_iter, n_cycles=n_cycle, ratio=ratio)
            for i in range(n_iter)]
    assert ours == pytest.approx(ref, abs=1e-9)


def test_unknown_schedule_name():
    with pytest.raises(ValueError, match="kl_schedule"):
        sch.beta_factor("cosine", 1.0)
