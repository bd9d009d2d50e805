import pytest
import torch

from photogen.core.weights import REGISTRY
from photogen.nets.vgg import vgg19

# torchvision.models.vgg19().state_dict(): every key and shape, written out literally.
_CONVS = [(0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256)]
_CONVS += [(14, 256, 256), (16, 256, 256), (19, 512, 256), (21, 512, 512), (23, 512, 512)]
_CONVS += [(25, 512, 512), (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512)]
TORCHVISION_VGG19 = {}
for i, cout, cin in _CONVS:
    TORCHVISION_VGG19[f"features.{i}.weight"] = (cout, cin, 3, 3)
    TORCHVISION_VGG19[f"features.{i}.bias"] = (cout,)
for i, cout, cin in [(0, 4096, 25088), (3, 4096, 4096), (6, 1000, 4096)]:
    TORCHVISION_VGG19[f"classifier.{i}.weight"] = (cout, cin)
    TORCHVISION_VGG19[f"classifier.{i}.bias"] = (cout,)


def test_state_dict_is_torchvisions():
    sd = vgg19().state_dict()
    assert list(sd) == list(TORCHVISION_VGG19)
    assert {k: tuple(v.shape) for k, v in sd.items()} == TORCHVISION_VGG19
    assert sum(v.numel() for v in sd.values()) == 143_667_240


def test_loads_a_torchvision_format_file(tmp_path):
    ref = vgg19()
    torch.save(ref.state_dict(), tmp_path / "vgg19-test.pth")
    model = vgg19(weights=str(tmp_path / "vgg19-test.pth"))
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        a = ref.extract(x, ["relu3_1"])["relu3_1"]
        b = model.extract(x, ["relu3_1"])["relu3_1"]
    assert torch.equal(a, b)


def test_named_layers_and_early_stop():
    model = vgg19()
    names = model.layer_names
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert "conv4_2" in names and names[-1] == "pool5" and len(names) == 37
    out = model.extract(torch.rand(1, 3, 32, 32), ["relu1_1", "pool2", "conv4_2"])
    assert out["relu1_1"].shape == (1, 64, 32, 32)
    assert out["pool2"].shape == (1, 128, 8, 8)
    assert out["conv4_2"].shape == (1, 512, 4, 4)
    with pytest.raises(ValueError, match="unknown"):
        model.extract(torch.rand(1, 3, 8, 8), ["conv9_9"])


def test_avg_pooling_and_registry():
    model = vgg19(pooling="avg")
    assert isinstance(model.features[4], torch.nn.AvgPool2d)
    entry = REGISTRY["vgg19"]
    assert entry.url.endswith("vgg19-dcbb9e9d.pth") and entry.sha256 == "dcbb9e9d"
