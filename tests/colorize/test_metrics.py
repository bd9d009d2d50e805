import math

import torch

from photogen.colorize.metrics import AccuracyCurve, colourfulness, psnr


def test_auc_plain_and_rebalanced_on_a_mostly_grey_scene():
    true_ab = torch.zeros(1, 2, 10, 10)
    true_ab[0, 0, :1] = 60.0  # one row in 10 is saturated red (a = 60)
    grey = AccuracyCurve()
    grey.update(torch.zeros_like(true_ab), true_ab)
    plain, rebalanced = grey.curves()
    assert plain.shape == (151,)
    assert plain[0] == 0.9 and plain[60] == 1.0 and plain[59] == 0.9
    # two colour classes, one always right, one right from t = 60 on
    assert math.isclose(float(rebalanced[0]), 0.5) and rebalanced[60] == 1.0
    auc, auc_rebalanced = grey.auc()
    assert math.isclose(auc, (0.9 * 60 + 91) / 151, rel_tol=1e-9)
    assert auc_rebalanced < auc  # the rebalanced metric punishes the grey guess
    perfect = AccuracyCurve()
    perfect.update(true_ab, true_ab)
    assert perfect.auc() == (1.0, 1.0)


def test_psnr_and_colourfulness():
    a = torch.full((1, 3, 4, 4), 0.5)
    assert psnr(a, a + 0.1) == 20.0 or math.isclose(psnr(a, a + 0.1), 20.0, rel_tol=1e-6)
    assert colourfulness(a) == 0.0
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 1.0
    # rg = 255, yb = 127.5, no spread: 0.3 * sqrt(255² + 127.5²)
    assert math.isclose(colourfulness(red), 0.3 * math.hypot(255, 127.5), rel_tol=1e-9)
