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


class OfficialSIGGRAPH(nn.Module):
    """A literal transcription of the released SIGGRAPHGenerator (colorizers/siggraph17.py)."""

    def __init__(self, classes=529):
        super().__init__()
        norm = nn.BatchNorm2d

        def convs(cin, cout, n, dil=1):
            layers = []
            for i in range(n):
                layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, 1, dil, dil, bias=True)]
                layers += [nn.ReLU(True)]
            return layers + [norm(cout)]

        self.model1 = nn.Sequential(*convs(4, 64, 2))
        self.model2 = nn.Sequential(*convs(64, 128, 2))
        self.model3 = nn.Sequential(*convs(128, 256, 3))
        self.model4 = nn.Sequential(*convs(256, 512, 3))
        self.model5 = nn.Sequential(*convs(512, 512, 3, 2))
        self.model6 = nn.Sequential(*convs(512, 512, 3, 2))
        self.model7 = nn.Sequential(*convs(512, 512, 3))
        self.model8up = nn.Sequential(
            nn.ConvTranspose2d(512, 256, kernel_size=4, stride=2, padding=1)
        )
        self.model3short8 = nn.Sequential(nn.Conv2d(256, 256, 3, 1, 1))
        self.model8 = nn.Sequential(
            nn.ReLU(True), nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(True), norm(256),
        )  # fmt: skip
        self.model9up = nn.Sequential(
            nn.ConvTranspose2d(256, 128, kernel_size=4, stride=2, padding=1)
        )
        self.model2short9 = nn.Sequential(nn.Conv2d(128, 128, 3, 1, 1))
        self.model9 = nn.Sequential(
            nn.ReLU(True), nn.Conv2d(128, 128, 3, 1, 1), nn.ReLU(True), norm(128)
        )
        self.model10up = nn.Sequential(
            nn.ConvTranspose2d(128, 128, kernel_size=4, stride=2, padding=1)
        )
        self.model1short10 = nn.Sequential(nn.Conv2d(64, 128, 3, 1, 1))
        self.model10 = nn.Sequential(
            nn.ReLU(True), nn.Conv2d(128, 128, 3, 1, 1), nn.LeakyReLU(negative_slope=0.2)
        )
        self.model_class = nn.Sequential(nn.Conv2d(256, classes, kernel_size=1))
        self.model_out = nn.Sequential(nn.Conv2d(128, 2, kernel_size=1), nn.Tanh())

    def forward(self, input_a, input_b=None, mask_b=None):
        if input_b is None:
            input_b = torch.cat((input_a * 0, input_a * 0), dim=1)
        if mask_b is None:
            mask_b = input_a * 0
        conv1_2 = self.model1(torch.cat(((input_a - 50.0) / 100.0, input_b / 110.0, mask_b), dim=1))
        conv2_2 = self.model2(conv1_2[:, :, ::2, ::2])
        conv3_3 = self.model3(conv2_2[:, :, ::2, ::2])
        conv4_3 = self.model4(conv3_3[:, :, ::2, ::2])
        conv5_3 = self.model5(conv4_3)
        conv6_3 = self.model6(conv5_3)
        conv7_3 = self.model7(conv6_3)
        conv8_up = self.model8up(conv7_3) + self.model3short8(conv3_3)
        conv8_3 = self.model8(conv8_up)
        conv9_up = self.model9up(conv8_3) + self.model2short9(conv2_2)
        conv9_3 = self.model9(conv9_up)
        conv10_up = self.model10up(conv9_3) + self.model1short10(conv1_2)
        conv10_2 = self.model10(conv10_up)
        return self.model_out(conv10_2) * 110.0


def test_siggraph17_official_layout_output_and_hints(tmp_path):
    from photogen.colorize.models import SIGGRAPH17, hints_from_points, siggraph17

    official = OfficialSIGGRAPH()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, t in official.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5 if "running_var" in name
                        else torch.randn(t.shape, generator=g) * 0.05)  # fmt: skip
    official.eval()
    ours_sd = SIGGRAPH17().state_dict()
    assert {k: v.shape for k, v in ours_sd.items()} == {
        k: v.shape for k, v in official.state_dict().items()
    }
    assert list(ours_sd)[:2] == ["model1.0.weight", "model1.0.bias"]
    assert "model_out.0.weight" in ours_sd and "model1short10.0.weight" in ours_sd
    torch.save(official.state_dict(), tmp_path / "siggraph17-test.pth")
    ours = siggraph17(weights=str(tmp_path / "siggraph17-test.pth"))
    l_channel = torch.rand(1, 1, 32, 40, generator=g) * 100
    ab, mask = hints_from_points([(5, 7, 40.0, -20.0), (20, 30, -10.0, 60.0)], 32, 40, radius=1)
    assert mask.sum() == 18 and ab[0, :, 5, 7].tolist() == [40.0, -20.0]
    with torch.no_grad():
        auto = ours(l_channel)
        assert torch.allclose(auto, official(l_channel), atol=1e-4)
        hinted = ours(l_channel, ab, mask)
        assert torch.allclose(hinted, official(l_channel, ab, mask), atol=1e-4)
    assert not torch.allclose(hinted, auto, atol=1e-3)  # the hints change the result


def test_lite_stem_collapse_is_exact():
    """The 1-channel stem on L equals the ImageNet RGB stem on the grey image L/100."""
    from photogen.colorize.lite import LiteColorizer
    from photogen.nets.efficientnet_lite import efficientnet_lite0

    enc = efficientnet_lite0()
    lite = LiteColorizer()
    lite.load_encoder(enc.state_dict())
    lite.eval()
    l_channel = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(4)) * 100
    seen = {}
    hook = lite.blocks[4].register_forward_hook(lambda m, i, out: seen.update(x=out))
    with torch.no_grad():
        ref = enc.extract((l_channel / 100).expand(-1, 3, -1, -1), ["block4"])["block4"]
        lite.logits(l_channel)  # through the model's own input scaling and stem
    hook.remove()
    assert torch.allclose(seen["x"], ref, atol=1e-4)
    assert lite.logits(torch.rand(2, 1, 72, 100) * 100).shape == (2, 313, 18, 25)
    assert lite(torch.rand(1, 1, 72, 100) * 100).shape == (1, 2, 72, 100)
