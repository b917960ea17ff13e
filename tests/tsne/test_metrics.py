"""Quality scores and drift (vae_widgets.tsne.metrics): hand-checkable cases and sklearn."""
import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sk_trustworthiness

from vae_widgets.tsne import metrics


def line(n):
    return np.arange(n, dtype=float)[:, None]


def test_identity_embedding_is_perfect():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    assert metrics.trustworthiness(X, X, k=5) == pytest.approx(1.0)
    assert metrics.knn_preservation(X, X, k=5) == pytest.approx(1.0)


def test_knn_preservation_by_hand():
    # 1-D points 0..5; embedding swaps the two ends' order: y = [0, 1, 2, 3, 4, 5] -> k=1
    X = line(6)
    Y = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    assert metrics.knn_preservation(X, Y, k=1) == 1.0
    # move point 0 next to point 5: 0's neighbour becomes 5 (was 1); 1's becomes 2 (was 0 or 2)
    # neighbours with k=1 (ties broken by index): X: 0->1, 1->0, 2->1, 3->2, 4->3, 5->4
    Y2 = np.array([[5.6], [1.0], [2.0], [3.0], [4.0], [5.0]])
    # Y2: 0->5, 1->2, 2->1, 3->2, 4->3, 5->0 : kept 2,3,4 -> 3 of 6
    assert metrics.knn_preservation(X, Y2, k=1) == pytest.approx(3 / 6)


def test_trustworthiness_matches_sklearn_and_drops_for_a_shuffle():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) * [1, 1, 0.05]    # nearly flat: its 2-D shadow is faithful
    Y = X[:, :2] + 0.01 * rng.normal(size=(200, 2))
    t = metrics.trustworthiness(X, Y, k=10)
    assert t == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=10))
    shuffled = Y[rng.permutation(200)]
    assert metrics.trustworthiness(X, shuffled, k=10) < t - 0.1
    # chance level is k / (n - 1) = 0.05
    assert metrics.knn_preservation(X, shuffled, k=10) < 0.12 < 0.8 < metrics.knn_preservation(X, Y, k=10)


def test_embedding_quality_samples_large_inputs_with_a_seed():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(900, 5))
    q1 = metrics.embedding_quality(X, X[:, :2], sample=300, random_state=4)
    q2 = metrics.embedding_quality(X, X[:, :2], sample=300, random_state=4)
    assert q1 == q2 and q1["n_sampled"] == 300 and q1["n_points"] == 900 and q1["k"] == 10
    rows = metrics.sample_rows(900, 300, 4)
    assert q1["trustworthiness"] == pytest.approx(
        sk_trustworthiness(X[rows], X[rows, :2], n_neighbors=10))
    assert metrics.embedding_quality(X[:50], X[:50, :2])["n_sampled"] == 50


def test_drift_by_hand_and_ordering():
    # reference: a grid with spacing 1 -> mean distance to the 1 nearest neighbour is 1
    g = np.array([[i, j] for i in range(10) for j in range(10)], dtype=float)
    d = metrics.drift(g, np.array([[4.5, 4.0], [20.0, 4.0]]), k=1)
    assert d["reference_mean"] == pytest.approx(1.0)
    np.testing.assert_allclose(d["per_point"], [0.5, 11.0])
    assert d["score"] == pytest.approx(5.75)
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(800, 6))
    same = metrics.drift(ref, rng.normal(size=(200, 6)))["score"]
    far = metrics.drift(ref, rng.normal(size=(200, 6)) * 4)["score"]
    assert 0.8 < same < 1.25 < 2 < far


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.trustworthiness(np.zeros((5, 2)), np.zeros((6, 2))), "same points"),
    (lambda: metrics.knn_preservation(line(10), line(10), k=0), "positive integer"),
    (lambda: metrics.knn_preservation(line(10), line(10), k=5), "too large"),
    (lambda: metrics.drift(np.zeros((10, 3)), np.zeros((2, 4))), "same columns"),
    (lambda: metrics.drift(np.zeros((10, 3)), np.zeros((2, 3)), k=10), "1..9"),
])
def test_bad_inputs_say_what_to_do(call, match):
    with pytest.raises(ValueError, match=match):
        call()
