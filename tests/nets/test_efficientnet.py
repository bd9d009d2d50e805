import torch

from photogen.core.resample import resize
from photogen.core.samples import load_sample
from photogen.nets.efficientnet_lite import efficientnet_lite0


def test_weights_load_strictly_and_count():
    model = efficientnet_lite0()
    sd = model.state_dict()
    assert len(sd) == 296
    assert sum(p.numel() for p in model.parameters()) == 4_652_008


def test_classifies_chelsea_as_a_cat():
    model = efficientnet_lite0()
    x = resize(load_sample("chelsea"), (224, 224))
    with torch.no_grad():
        probs = model(x).softmax(dim=1)[0]
    assert 281 <= int(probs.argmax()) <= 285  # ImageNet cat classes
    assert probs[281:286].sum() > 0.8


def test_extract_named_layers():
    model = efficientnet_lite0(weights=None)
    out = model.extract(torch.rand(1, 3, 64, 64), ["stem", "block0", "block7"])
    assert out["stem"].shape == (1, 32, 32, 32)
    assert out["block0"].shape == (1, 16, 32, 32)
    assert out["block7"].shape == (1, 80, 4, 4)
    assert out["stem"].min() >= 0 and out["stem"].max() <= 6  # ReLU6


def test_fused_batchnorm_gives_the_same_activations():
    model = efficientnet_lite0().double()
    fused = model.fused()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = torch.rand(1, 3, 64, 80, dtype=torch.float64)
    layers = ["stem", "block0", "block7", "block10", "logits"]
    with torch.no_grad():
        a = model.extract(x, layers)
        b = fused.extract(x, layers)
    for k in layers:
        assert torch.allclose(a[k], b[k], atol=1e-9, rtol=1e-9), k
