import random

import numpy as np
import pytest
import torch

from photogen.core.training import load_checkpoint, save_checkpoint, seed_everything


def _train(model, opt, steps):
    for _ in range(steps):
        x = torch.randn(8, 4)
        noise = float(np.random.rand()) + random.random()
        loss = (model(x) - noise).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.weight.detach().clone()


def test_resume_continues_exactly(tmp_path):
    seed_everything(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    _train(model, opt, 3)
    save_checkpoint(tmp_path / "ck.pt", model=model, optimizer=opt, step=3)
    straight = _train(model, opt, 4)

    model2 = torch.nn.Linear(4, 1)
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.1)
    seed_everything(123)  # different RNG state, restored from the checkpoint
    payload = load_checkpoint(tmp_path / "ck.pt", model=model2, optimizer=opt2)
    assert payload["step"] == 3
    resumed = _train(model2, opt2, 4)
    assert torch.equal(straight, resumed)
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_a_training_run_resumes_its_random_numbers_and_refuses_a_leftover(tmp_path,
                                                                          monkeypatch):  # fmt: skip
    """TrainingRun: a checkpoint continues the random numbers exactly (its own per-rank
    states, or an older single-process checkpoint's); an existing run is refused without
    resume; a trainer that is not distributed ignores torchrun's environment."""
    from photogen.core.training import LeftoverRunError, TrainingRun, save_checkpoint

    net = torch.nn.Linear(2, 2)
    job = TrainingRun(tmp_path / "run", False, seed=3)
    job.seed_rank()
    torch.rand(5)
    job.save(model=net, step=1)
    expected = torch.rand(4)
    with pytest.raises(LeftoverRunError):
        TrainingRun(tmp_path / "run", False, seed=3)
    again = TrainingRun(tmp_path / "run", True, seed=3)
    again.seed_rank()
    torch.rand(9)  # whatever happened before the restore
    assert again.restore(model=net)["step"] == 1
    assert torch.equal(torch.rand(4), expected)
    old = tmp_path / "old"
    old.mkdir()
    torch.manual_seed(5)
    save_checkpoint(old / "checkpoint.pt", model=net, step=2)  # "rng" only
    expected = torch.rand(3)
    TrainingRun(old, True, seed=0).restore(model=net)
    assert torch.equal(torch.rand(3), expected)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    solo = TrainingRun(tmp_path / "solo", False, seed=0, distributed=False)
    assert (solo.world, solo.rank, solo.main) == (1, 0, True)
