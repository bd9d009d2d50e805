"""Each experiment's verdict: does the claim's direction show in the numbers it recorded?

Pure functions of ``results.json``'s ``numbers`` (the runner calls them; anyone can recompute
them from the file), kept apart from the experiments' code so that their tests are fast and
``make mutate`` covers them.
"""

from __future__ import annotations

COLORIZE_LOSSES = ("L2 regression", "classification", "classification + rebalancing")


def colorize_loss(numbers: dict) -> bool:
    """The claim's direction in the recorded numbers: rebalanced classification is more
    colourful than L2, and the most colourful of the three losses."""
    c = [numbers[n]["colourfulness"] for n in COLORIZE_LOSSES]
    return c[0] < c[2] and c[2] == max(c)


def data_size(numbers: dict) -> bool:
    """The claim's direction in the recorded numbers, on every dataset: the target class's ROC
    AUC never falls as the database grows (within 0.005), and both votes' accuracy rises from
    the smallest database to the largest."""
    for n in numbers.values():
        rows = [n["per_size"][str(size)] for size in n["sizes"]]
        aucs = [r["target_roc_auc"] for r in rows]
        if any(b < a - 0.005 for a, b in zip(aucs, aucs[1:], strict=False)):
            return False
        for weighting in ("uniform", "distance-weighted"):
            if not rows[-1][f"accuracy_{weighting}"] > rows[0][f"accuracy_{weighting}"]:
                return False
    return True


def texture_layers(numbers: dict) -> bool:
    """Matching up to the deepest layer ends closer to the example (in Gram distance over all
    depths) than matching the first layer alone."""
    values = list(numbers["gram_distance"].values())
    return values[-1] < values[0]


def style_tradeoff(numbers: dict) -> bool:
    """Deeper reconstructions lose the pixels (error grows from the first to the last depth),
    and less content weight brings the result nearer the style (Gram distance falls)."""
    e = list(numbers["reconstruction_pixel_error"].values())
    d = list(numbers["style_gram_distance"].values())
    return e[-1] > e[0] and d[-1] < d[0]


def pix2pix_loss(numbers: dict) -> bool:
    """L1 + cGAN has a lower FID than L1 alone and than the same loss without skips."""
    fid = {v: n["FID_lite0"] for v, n in numbers.items()}
    return fid["L1 + cGAN"] < fid["L1"] and fid["L1 + cGAN"] < fid["L1 + cGAN, encoder-decoder"]


def mlp_capacity(numbers: dict) -> bool:
    """On the curved datasets (all but gauss) the largest MLP beats the perceptron's mean test
    accuracy by more than 10 points."""
    acc = numbers["accuracy"]
    datasets = list(dict.fromkeys(k.split(" / ")[0] for k in acc))
    models = [k.split(" / ")[1] for k in acc if k.startswith(datasets[0] + " / ")]
    curved = [d for d in datasets if d != "gauss"]
    perceptron = sum(acc[f"{d} / perceptron"] for d in curved) / len(curved)
    biggest = sum(acc[f"{d} / {models[-1]}"] for d in curved) / len(curved)
    return biggest > perceptron + 0.1


def siblings(numbers: dict) -> bool:
    """The siblings' colours are nearer the truth (mean ab error) than random images'."""
    errors = numbers["mean_ab_error"]
    return errors["siblings"] < errors["random"]
