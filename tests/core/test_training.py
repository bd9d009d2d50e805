import random

import numpy as np
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
