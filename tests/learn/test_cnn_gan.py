"""Small CNN and DCGAN: shapes, one step moves the loss the right way, exact resume, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from photogen.cli.main import main
from photogen.learn.cnn import CNNConfig, SmallCNN, cnn_step, confusion_matrix, load_cnn, train_cnn
from photogen.learn.data import FASHION_CLASSES, load_dataset
from photogen.learn.gan import Discriminator, Generator, d_loss, g_loss, make_optimizers, slerp
from photogen.learn.gan_train import GANConfig, train_gan
from photogen.pixelcnn.data import FASHION_MNIST

CPU = torch.device("cpu")


def test_cnn_shapes_and_stages():
    model = SmallCNN(1, 10, 28, width=8, hidden=16)
    stages = model.stages(torch.rand(2, 1, 28, 28))
    assert stages["conv1"].shape == (2, 8, 28, 28)  # zero padding keeps the size
    assert stages["pool1"].shape == (2, 8, 14, 14)
    assert stages["pool2"].shape == (2, 16, 7, 7)
    assert stages["logits"].shape == (2, 10) and model.embed(torch.rand(3, 1, 28, 28)).shape == (
        3,
        16,
    )
    with pytest.raises(ValueError, match="divisible by 4"):
        SmallCNN(size=30)


def test_one_cnn_step_lowers_the_loss_on_its_batch():
    torch.manual_seed(0)
    model = SmallCNN(1, 10, 8, width=8, hidden=32, dropout=0.0)
    x, y = torch.rand(32, 1, 8, 8), torch.randint(0, 10, (32,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = torch.nn.functional.cross_entropy(model(x), y)
    cnn_step(model, opt, None, x, y)
    after = torch.nn.functional.cross_entropy(model(x), y)
    assert after < before


def test_confusion_matrix():
    pred, truth = torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 0])
    cm = confusion_matrix(pred, truth, 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]


class _StopAfter:
    """A progress bar that simulates a kill after ``n`` steps."""

    def __init__(self, n):
        self.n = n

    def __call__(self, **kw):
        return self

    def update(self, k):
        self.n -= k
        if self.n <= 0:
            raise KeyboardInterrupt

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


def _tiny_digits():
    return load_dataset("sklearn-digits", limit=96, test_limit=40)


def test_cnn_resume_after_a_kill_is_exact(tmp_path):
    data = _tiny_digits()
    cfg = dict(epochs=2, batch_size=16, save_every=4, width=8, hidden=16)
    full = train_cnn(CNNConfig("sklearn-digits", str(tmp_path / "a"), **cfg), CPU, data=data)
    part = CNNConfig("sklearn-digits", str(tmp_path / "b"), **cfg)
    with pytest.raises(KeyboardInterrupt):
        train_cnn(part, CPU, progress=_StopAfter(9), data=data)  # checkpoint at step 8
    resumed = train_cnn(part, CPU, resume=True, data=data)
    assert resumed["test_accuracy"] == full["test_accuracy"] and resumed["steps"] == 12
    a, b = load_cnn(tmp_path / "a"), load_cnn(tmp_path / "b")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    for name in ("confusion.png", "filters.png", "features.png", "index.html", "log.csv"):
        assert (tmp_path / "b" / name).is_file()


def test_gan_shapes_and_conditioning():
    G, D = Generator(16, 8, 1, 8, classes=10), Discriminator(8, 1, 8, classes=10)
    y = torch.arange(4)
    img = G(torch.randn(4, 16), y)
    assert img.shape == (4, 1, 8, 8) and img.abs().max() <= 1
    assert D(img, y).shape == (4,)
    # The label changes the image and the score (same noise, eval-mode batch norm).
    G.eval(), D.eval()
    z = torch.randn(1, 16).repeat(2, 1)
    with torch.no_grad():
        pair = G(z, torch.tensor([1, 7]))
        assert (pair[0] - pair[1]).abs().max() > 0.05 * pair.abs().max()  # 0 if ignored
        scores = D(pair[:1].repeat(2, 1, 1, 1), torch.tensor([1, 7]))
        assert (scores[0] - scores[1]).abs() > 1e-3 * scores.abs().max()
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    a, b = torch.randn(3, 16, dtype=torch.float64), torch.randn(3, 16, dtype=torch.float64)
    path = slerp(a[None], b[None], t)
    assert path.shape == (5, 3, 16)
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    # Shoemake's formula, row by row, in numpy.
    an, bn = a.numpy(), b.numpy()
    for i in range(3):
        cos = an[i] @ bn[i] / np.linalg.norm(an[i]) / np.linalg.norm(bn[i])
        om = np.arccos(cos)
        for j, tj in enumerate(t.numpy()):
            ref = (np.sin((1 - tj) * om) * an[i] + np.sin(tj * om) * bn[i]) / np.sin(om)
            np.testing.assert_allclose(path[j, i].numpy(), ref, rtol=1e-6, atol=1e-9)


@torch.no_grad()
def _value(loss_fn, *args) -> float:
    return float(loss_fn(*args))


def test_one_gan_step_moves_each_loss_the_right_way():
    torch.manual_seed(0)
    G, D = Generator(16, 8, 1, 16), Discriminator(8, 1, 16)
    opt_g, opt_d = make_optimizers(G, D)
    real = torch.rand(32, 1, 8, 8) * 2 - 1
    z = torch.randn(32, 16)
    fake = G(z).detach()
    D.eval()  # compare on fixed batch-norm statistics
    before = _value(d_loss, D, real, fake)
    D.train()
    loss = d_loss(D, real, fake)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    D.eval()
    assert _value(d_loss, D, real, fake) < before  # D got better at telling them apart
    G.eval()
    before_g = _value(lambda: g_loss(D, G(z)))
    G.train()
    loss = g_loss(D, G(z))
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    G.eval()
    assert _value(lambda: g_loss(D, G(z))) < before_g  # G fools the fixed D more


def test_gan_resume_after_a_kill_is_exact(tmp_path):
    data = _tiny_digits()
    judge = tmp_path / "judge"
    train_cnn(CNNConfig("sklearn-digits", str(judge), epochs=1, width=8, hidden=16), CPU, data=data)
    cfg = dict(
        epochs=2,
        batch_size=16,
        save_every=4,
        nz=8,
        ngf=8,
        ndf=8,
        judge=str(judge),
        conditional=True,
        eval_samples=40,
    )
    full = train_gan(GANConfig("sklearn-digits", str(tmp_path / "a"), **cfg), CPU, data=data)
    part = GANConfig("sklearn-digits", str(tmp_path / "b"), **cfg)
    with pytest.raises(KeyboardInterrupt):
        train_gan(part, CPU, progress=_StopAfter(10), data=data)
    resumed = train_gan(part, CPU, resume=True, data=data)
    assert resumed == {**full, "run_dir": str(tmp_path / "b")}
    ca = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    cb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    for k in ca["G"]:
        assert torch.equal(ca["G"][k], cb["G"][k]), k
    assert torch.equal(ca["steps"], cb["steps"])
    assert (tmp_path / "b" / "samples" / "epoch_002.png").is_file()
    assert "judge_accuracy" in full and full["frechet"] > 0


def test_cli_learn_end_to_end(tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main(["learn", "perceptron", "--dataset", "xor", "--epochs", "5", "-o", str(out)]) == 0
    assert out.is_file() and "pocket" in capsys.readouterr().err
    pg = tmp_path / "pg"
    assert (
        main(["learn", "playground", "-o", str(pg), "--points", "60", "--epochs", "5", "-q"]) == 0
    )
    for name in ("regions_hidden.png", "regions_lambda.png", "loss_surface.png", "index.html"):
        assert (pg / name).is_file()
    run = tmp_path / "cnn"
    args = ["learn", "cnn", "sklearn-digits", "--name", str(run), "--epochs", "3", "-q"]
    assert main(args) == 0
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] > 0.5
    assert main(args) == 1  # refuses to overwrite a run without --resume
    gan = tmp_path / "gan"
    assert (
        main(
            [
                "learn",
                "gan",
                "sklearn-digits",
                "--name",
                str(gan),
                "--epochs",
                "1",
                "--judge",
                str(run),
                "--limit",
                "200",
                "--eval-samples",
                "100",
                "-q",
            ]
        )
        == 0
    )
    assert (gan / "generator.safetensors").is_file() and (gan / "interpolation.png").is_file()
    assert main(["learn", "cnn", "no-such-set", "--name", str(tmp_path / "x"), "-q"]) == 1


@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="Debian dataset-fashion-mnist absent")
def test_fashion_mnist_cnn_learns_on_a_subset(tmp_path):
    data = load_dataset("fashion-mnist", limit=4000, test_limit=1000)
    assert data.train_x.shape == (4000, 1, 28, 28) and data.classes == FASHION_CLASSES
    s = train_cnn(
        CNNConfig("fashion-mnist", str(tmp_path), epochs=3, width=16, hidden=64), CPU, data=data
    )
    assert s["test_accuracy"] > 0.7
