"""Procrustes alignment (vae_widgets.tsne.align): recovers known transforms, reports disparity."""
import numpy as np
import pytest
from scipy.spatial import procrustes as scipy_procrustes

from vae_widgets.tsne.align import Alignment, procrustes


def rot(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])


@pytest.fixture
def points():
    return np.random.default_rng(0).normal(size=(300, 2)) * [3.0, 1.0]


@pytest.mark.parametrize("deg", [0.0, 37.0, 180.0, -120.0])
@pytest.mark.parametrize("mirror", [False, True])
def test_recovers_rotation_reflection_scale_translation(points, deg, mirror):
    M = np.diag([1.0, -1.0]) if mirror else np.eye(2)
    # the reference is the source moved: Y = 2.5 * X M R + t
    Y = 2.5 * points @ M @ rot(deg) + [10.0, -4.0]
    a = procrustes(points, Y)
    np.testing.assert_allclose(a.apply(points), Y, atol=1e-9)
    assert a.scale == pytest.approx(2.5)
    assert a.reflected is mirror
    np.testing.assert_allclose(a.rotation, M @ rot(deg), atol=1e-9)
    assert a.disparity == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(rot(a.angle), rot(deg), atol=1e-9)   # angle, modulo 360


def test_inverse_direction_and_other_frames(points):
    Y = 0.5 * points @ rot(75) - 3.0
    a = procrustes(Y, points)             # bring the moved copy back
    np.testing.assert_allclose(a.apply(Y), points, atol=1e-9)
    # the same transform applies to another frame of the same run (what streaming does)
    other = Y[:10] + 0.01
    np.testing.assert_allclose(a.apply(other), (other + 3.0) @ rot(75).T / 0.5, atol=1e-9)


def test_disparity_matches_scipy_and_grows_with_noise(points):
    rng = np.random.default_rng(1)
    Y = 1.7 * points @ rot(20) + rng.normal(scale=0.5, size=points.shape)
    a = procrustes(points, Y)
    _, _, d_scipy = scipy_procrustes(Y, points)
    assert a.disparity == pytest.approx(d_scipy, rel=1e-9)
    assert 0 < a.disparity < 0.2
    noisier = procrustes(points, Y + rng.normal(scale=2.0, size=points.shape))
    assert noisier.disparity > a.disparity
    unrelated = procrustes(points, rng.normal(size=points.shape))
    assert unrelated.disparity > 0.8


def test_no_reflection_and_no_scale_options(points):
    Y = points @ np.diag([1.0, -1.0])     # a pure mirror image
    proper = procrustes(points, Y, reflection=False)
    assert not proper.reflected and proper.disparity > 0.1
    assert procrustes(points, Y).disparity == pytest.approx(0.0, abs=1e-12)
    fixed = procrustes(points, 3.0 * points, scale=False)
    assert fixed.scale == 1.0 and fixed.disparity > 0


def test_degenerate_and_bad_inputs(points):
    collapsed = procrustes(np.zeros((5, 2)), np.ones((5, 2)))   # nothing to rotate: translate
    np.testing.assert_allclose(collapsed.apply(np.zeros((5, 2))), np.ones((5, 2)))
    assert Alignment.identity().apply([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="same shape"):
        procrustes(points, points[:-1])
    with pytest.raises(ValueError, match="finite"):
        procrustes(points, np.full_like(points, np.nan))
