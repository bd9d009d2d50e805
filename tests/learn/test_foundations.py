"""Perceptron and numpy MLP: convergence, pocket, backprop vs autograd, capacity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from photogen.learn.mlp import MLP, labels01
from photogen.learn.perceptron import train_perceptron
from photogen.learn.toy import DATASETS, make_dataset, split


def test_datasets_are_balanced_and_reproducible():
    for name in DATASETS:
        X, y = make_dataset(name, 200, noise=0.2, seed=3)
        assert X.shape == (200, 2) and set(np.unique(y)) == {-1.0, 1.0}
        if name != "xor":  # xor labels follow the quadrant of uniform points
            assert (y == 1).sum() == 100
        X2, _ = make_dataset(name, 200, noise=0.2, seed=3)
        assert np.array_equal(X, X2)
    with pytest.raises(ValueError, match="unknown dataset"):
        make_dataset("moons")


def test_perceptron_converges_on_separable_data():
    rng = np.random.default_rng(0)
    w_true = np.array([1.5, -2.0, 0.5])
    X = rng.uniform(-3, 3, (300, 3))
    margin = X @ w_true + 0.7
    keep = np.abs(margin) > 0.2  # a margin, so convergence is guaranteed
    X, y = X[keep], np.where(margin[keep] > 0, 1.0, -1.0)
    result = train_perceptron(X, y, epochs=200, seed=1)
    assert result.converged and result.errors == 0 and not result.pocket
    assert (result.predict(X) == y).all()
    assert "separated all" in result.summary(len(X))


def test_perceptron_keeps_pocket_weights_on_non_separable_data():
    X, y = make_dataset("xor", 200, seed=0)
    result = train_perceptron(X, y, epochs=20, seed=0)
    assert not result.converged and result.pocket
    errors = int((result.predict(X) != y).sum())
    assert errors == result.errors
    assert errors <= min(result.errors_per_epoch)  # the pocket is never worse than any epoch end
    assert "not linearly separable" in result.summary(len(X))


def _torch_objective(mlp: MLP, X, y):
    Ws = [torch.tensor(W, requires_grad=True) for W in mlp.W]
    bs = [torch.tensor(b, requires_grad=True) for b in mlp.b]
    a = torch.tensor(X)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[mlp.activation]
    for k, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        a = a @ W + b
        if k < len(Ws) - 1:
            a = act(a)
    yt = torch.tensor(y)
    if mlp.loss_name == "softmax":
        loss = torch.nn.functional.cross_entropy(a, yt)
    else:
        loss = (
            0.5 * ((a - torch.nn.functional.one_hot(yt, a.shape[1]).double()) ** 2).sum() / len(y)
        )
    loss = loss + mlp.l2 * sum((W * W).sum() for W in Ws)
    loss.backward()
    return float(loss.detach()), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["softmax", "squared"])
def test_backprop_matches_autograd(activation, loss):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(17, 5))
    y = rng.integers(0, 3, 17)
    mlp = MLP([5, 7, 6, 3], activation=activation, loss=loss, l2=0.01, seed=2)
    value, dW, db = mlp.loss_and_grads(X, y)
    ref_value, ref_dW, ref_db = _torch_objective(mlp, X, y)
    assert abs(value - ref_value) < 1e-9
    for mine, ref in zip(dW + db, ref_dW + ref_db, strict=True):
        np.testing.assert_allclose(mine, ref, atol=1e-6, rtol=0)


def test_sgd_lowers_the_objective_and_l2_shrinks_weights():
    X, y = make_dataset("gauss", 200, noise=0.5, seed=0)
    y = labels01(y)
    norms = []
    for l2 in (0.0, 0.05):
        mlp = MLP([2, 6, 2], l2=l2, seed=0)
        start = mlp.evaluate(X, y)[0]
        hist = mlp.fit(X, y, epochs=30, lr=0.05, batch_size=10)
        assert hist.loss[-1] < start
        norms.append(sum(float((W * W).sum()) for W in mlp.W))
    assert norms[1] < 0.5 * norms[0]


def test_twenty_hidden_units_separate_the_circle_a_perceptron_cannot():
    X, y = make_dataset("circle", 400, noise=0.0, seed=0)
    Xtr, ytr, Xte, yte = split(X, y)
    mlp = MLP([2, 20, 2], activation="tanh", seed=0)
    mlp.fit(Xtr, labels01(ytr), epochs=150, lr=0.05, batch_size=10)
    assert mlp.evaluate(Xte, labels01(yte))[1] > 0.95
    perceptron = train_perceptron(Xtr, ytr, epochs=50, seed=0)
    assert not perceptron.converged
    assert (perceptron.predict(Xte) == yte).mean() < 0.8
