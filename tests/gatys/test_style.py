import pytest
import torch

from photogen.core.color import rgb_to_lab
from photogen.core.resample import resize
from photogen.core.samples import load_sample
from photogen.gatys.pyramid import pyramid_sizes
from photogen.gatys.style import MemoryBudgetError, StyleConfig, stylize


@pytest.fixture(scope="module")
def pair():
    return resize(load_sample("chelsea"), (48, 64)), resize(load_sample("ihc"), (48, 48))


def test_style_loss_decreases_and_content_kept(pair):
    content, style = pair
    cfg = StyleConfig(max_size=64, steps=30, levels=1)
    r = stylize(content, [style], cfg)
    assert r.image.shape == (1, 3, 48, 64)
    assert r.losses[-1] < 0.5 * r.losses[0]
    assert (r.image - content).abs().mean() < 0.25  # started from content, still recognisable


def test_preserve_colors_keeps_content_chroma(pair):
    content, style = pair
    r = stylize(
        content, [style], StyleConfig(max_size=64, steps=15, levels=1, preserve_colors=True)
    )
    lab_out, lab_in = rgb_to_lab(r.image), rgb_to_lab(content)
    plain = stylize(content, [style], StyleConfig(max_size=64, steps=15, levels=1))
    kept = (lab_out[:, 1:] - lab_in[:, 1:]).abs().mean()
    changed = (rgb_to_lab(plain.image)[:, 1:] - lab_in[:, 1:]).abs().mean()
    assert kept < 0.5 * changed


def test_pyramid_and_seed(pair):
    content, style = pair
    cfg = StyleConfig(
        network="random_multiscale", max_size=128, steps=4, levels=2, init="noise", seed=1
    )
    a, b = stylize(content, [style], cfg), stylize(content, [style], cfg)
    assert a.sizes == [(48, 64), (96, 128)] and torch.equal(a.image, b.image)
    assert pyramid_sizes((512, 512), 3) == [(128, 128), (256, 256), (512, 512)]
    assert pyramid_sizes((40, 40), 3) == [(40, 40)]


def test_several_styles_and_their_weights(pair):
    content, style = pair
    cfg = StyleConfig(
        network="random_multiscale", max_size=32, steps=3, levels=1, style_weights=[1, 0]
    )
    only_first = stylize(content, [style, torch.rand(1, 3, 40, 40)], cfg)
    single = stylize(
        content, [style], StyleConfig(network="random_multiscale", max_size=32, steps=3, levels=1)
    )
    assert torch.allclose(only_first.image, single.image, atol=1e-5)
    with pytest.raises(ValueError, match="style weights"):
        stylize(content, [style], StyleConfig(style_weights=[1, 2]))


def test_refuses_instead_of_out_of_memory(pair):
    """The refusal names the output size (as the command's own line does, not the padded
    canvas) and small amounts in MiB rather than "0.0 GiB"."""
    from photogen.gatys.pyramid import fit_max_side
    from photogen.gatys.style import format_bytes

    content, style = pair
    h, w = fit_max_side(*content.shape[-2:], 4000)
    with pytest.raises(
        MemoryBudgetError, match=rf"^{w}x{h} needs about [0-9.]+ GiB but only 1.0 GiB"
    ):
        stylize(content, [style], StyleConfig(max_size=4000, max_memory=2**30))
    assert format_bytes(3 * 2**20) == "3 MiB" and format_bytes(int(1.5 * 2**30)) == "1.5 GiB"
    with pytest.raises(MemoryBudgetError, match="only 5 MiB"):
        stylize(content, [style], StyleConfig(max_size=256, max_memory=5 * 2**20))


def test_odd_sizes_run_on_a_whole_stride_canvas_and_come_back_exact(pair):
    from photogen.gatys.pyramid import canvas_size, pad_to

    assert canvas_size((341, 512)) == (352, 512) and canvas_size((64, 33)) == (64, 64)
    x = torch.rand(1, 3, 45, 70)
    padded = pad_to(x, (64, 96))
    assert padded.shape[-2:] == (64, 96) and torch.equal(padded[..., :45, :70], x)
    assert torch.equal(padded[..., 45, :70], x[..., 43, :])  # reflected, not zeros
    assert pad_to(torch.rand(1, 3, 8, 8), (64, 64)).shape[-2:] == (64, 64)  # replicated
    content, style = pair
    seen = []
    cfg = StyleConfig(network="random_multiscale", max_size=70, steps=3, levels=1)
    r = stylize(resize(content, (45, 70)), [style], cfg, callback=lambda s: seen.append(s))
    assert r.image.shape == (1, 3, 45, 70) and r.image.is_contiguous()
    assert seen and all(tuple(s.image.shape[-2:]) == (45, 70) for s in seen)
