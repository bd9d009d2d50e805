import torch
import torch.nn.functional as F
from torch import nn

from photogen.colorize.bins import annealed_mean, gamut_bins
from photogen.colorize.models import ECCV16, eccv16
from photogen.core.weights import REGISTRY


class OfficialECCV(nn.Module):
    """A literal transcription of the released ECCVGenerator (layer by layer, as published)."""

    def __init__(self):
        super().__init__()
        norm = nn.BatchNorm2d
        model1 = [nn.Conv2d(1, 64, 3, 1, 1, bias=True), nn.ReLU(True)]
        model1 += [nn.Conv2d(64, 64, 3, 2, 1, bias=True), nn.ReLU(True), norm(64)]
        model2 = [nn.Conv2d(64, 128, 3, 1, 1, bias=True), nn.ReLU(True)]
        model2 += [nn.Conv2d(128, 128, 3, 2, 1, bias=True), nn.ReLU(True), norm(128)]
        model3 = [nn.Conv2d(128, 256, 3, 1, 1, bias=True), nn.ReLU(True)]
        model3 += [nn.Conv2d(256, 256, 3, 1, 1, bias=True), nn.ReLU(True)]
        model3 += [nn.Conv2d(256, 256, 3, 2, 1, bias=True), nn.ReLU(True), norm(256)]
        model4 = [nn.Conv2d(256, 512, 3, 1, 1, bias=True), nn.ReLU(True)]
        model4 += [nn.Conv2d(512, 512, 3, 1, 1, bias=True), nn.ReLU(True)]
        model4 += [nn.Conv2d(512, 512, 3, 1, 1, bias=True), nn.ReLU(True), norm(512)]
        model5 = [nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True), nn.ReLU(True)]
        model5 += [
            nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True),
            nn.ReLU(True),
        ]
        model5 += [
            nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True),
            nn.ReLU(True),
        ]
        model5 += [norm(512)]
        model6 = [nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True), nn.ReLU(True)]
        model6 += [
            nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True),
            nn.ReLU(True),
        ]
        model6 += [
            nn.Conv2d(512, 512, 3, dilation=2, stride=1, padding=2, bias=True),
            nn.ReLU(True),
        ]
        model6 += [norm(512)]
        model7 = [nn.Conv2d(512, 512, 3, 1, 1, bias=True), nn.ReLU(True)]
        model7 += [nn.Conv2d(512, 512, 3, 1, 1, bias=True), nn.ReLU(True)]
        model7 += [nn.Conv2d(512, 512, 3, 1, 1, bias=True), nn.ReLU(True), norm(512)]
        model8 = [nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=True), nn.ReLU(True)]
        model8 += [nn.Conv2d(256, 256, 3, 1, 1, bias=True), nn.ReLU(True)]
        model8 += [nn.Conv2d(256, 256, 3, 1, 1, bias=True), nn.ReLU(True)]
        model8 += [nn.Conv2d(256, 313, 1, 1, 0, bias=True)]
        for i, m in enumerate([model1, model2, model3, model4, model5, model6, model7, model8], 1):
            setattr(self, f"model{i}", nn.Sequential(*m))
        self.softmax = nn.Softmax(dim=1)
        self.model_out = nn.Conv2d(313, 2, 1, padding=0, dilation=1, stride=1, bias=False)
        self.upsample4 = nn.Upsample(scale_factor=4, mode="bilinear")

    def forward(self, input_l):
        conv1_2 = self.model1((input_l - 50.0) / 100.0)
        conv2_3 = self.model2(conv1_2)
        conv3_3 = self.model3(conv2_3)
        conv4_3 = self.model4(conv3_3)
        conv5_3 = self.model5(conv4_3)
        conv6_3 = self.model6(conv5_3)
        conv7_3 = self.model7(conv6_3)
        conv8_3 = self.model8(conv7_3)
        out_reg = self.model_out(self.softmax(conv8_3))
        return self.upsample4(out_reg) * 110.0


def _randomised(model):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                if name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=g) * 0.05)
        # As released: model_out holds the bin centres / 110.
        model.model_out.weight.copy_((gamut_bins().T / 110.0).view(2, 313, 1, 1))
    return model


def test_official_layout_and_output(tmp_path):
    official = _randomised(OfficialECCV()).eval()
    ours_sd = ECCV16().state_dict()
    assert list(ours_sd) == list(official.state_dict())
    assert {k: v.shape for k, v in ours_sd.items()} == {
        k: v.shape for k, v in official.state_dict().items()
    }
    assert (
        sum(v.numel() for k, v in ours_sd.items() if "running" not in k and "num_batches" not in k)
        == 32_236_011
    )
    torch.save(official.state_dict(), tmp_path / "colorization_release_v2-test.pth")
    ours = eccv16(weights=str(tmp_path / "colorization_release_v2-test.pth"), temperature=1.0)
    l_channel = torch.rand(1, 1, 64, 48) * 100
    with torch.no_grad():
        assert torch.allclose(ours(l_channel), official(l_channel), atol=1e-4)
        net = eccv16(weights=str(tmp_path / "colorization_release_v2-test.pth"))
        annealed = net(l_channel)
        # The default T=0.38 is the annealed mean of the logits over the 313 bin centres.
        expected = F.interpolate(
            annealed_mean(net.logits(l_channel), 0.38), scale_factor=4, mode="bilinear"
        )
    assert annealed.shape == (1, 2, 64, 48)
    assert torch.allclose(annealed, expected, atol=1e-3)


def test_registry_entries():
    assert REGISTRY["eccv16"].filename == "colorization_release_v2-9b330a0b.pth"
    assert REGISTRY["siggraph17"].sha256 == "df00044c"
