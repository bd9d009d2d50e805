"""Every experiment on tiny settings: its files exist, its numbers are finite, and the claim's
direction holds where it is robust even at this size."""

from __future__ import annotations

import json
import math

import pytest

from photogen.cli.main import main
from photogen.experiments import EXPERIMENTS, Settings, run_experiments

# colorize-loss's direction needs a few hundred steps (at 40 steps the classifier is still
# grey at T = 0.38); siblings' needs far more images than a test has
ROBUST = {"data-size", "mlp-capacity", "style-tradeoff"}


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return True


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    return out, run_experiments(["all"], out, Settings(tiny=True))


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_experiment_writes_its_results(results, name):
    out, found = results
    record = json.loads((out / name / "results.json").read_text())
    assert record == json.loads(json.dumps(found[name], default=float))
    assert record["claim"] and record["setup"] and record["finding"]
    assert record["settings"] == {"full": False, "tiny": True, "seed": 0}
    for fig in record["figures"]:
        assert (out / name / fig).stat().st_size > 1000
    assert _finite(record["numbers"])
    # the verdict is what the recorded numbers say, recomputed here from results.json
    assert record["holds"] is EXPERIMENTS[name].verdict(record["numbers"])
    if name in ROBUST:
        assert record["holds"] is True, record["finding"]
    page = (out / "index.html").read_text()
    assert f"id='{name}'" in page and f"{name}/{record['figures'][0]}" in page


def test_done_experiments_are_not_run_again(results, monkeypatch):
    out, _ = results
    ran = []
    import dataclasses

    stub = dataclasses.replace(EXPERIMENTS["mlp-capacity"], run=lambda *a: ran.append(a))
    monkeypatch.setitem(EXPERIMENTS, "mlp-capacity", stub)
    run_experiments(["mlp-capacity"], out, Settings(tiny=True))
    assert not ran


def test_cli_refuses_unknown_names(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["experiment", "nonsense", "-o", str(tmp_path)])
    assert e.value.code == 2 and "unknown experiment 'nonsense'" in capsys.readouterr().err


def test_data_size_also_runs_on_a_tiny_images_database(tmp_path):
    from photogen.tinyimages.database import TinyDB, build
    from tests.conftest import tinted_photo_folders

    photos = tinted_photo_folders(tmp_path / "photos", per_label=110)
    db = TinyDB(tmp_path / "db", create=True)
    build(db, [photos])
    out = tmp_path / "out"
    found = run_experiments(["data-size"], out, Settings(tiny=True, db=str(db.root)))
    record = found["data-size"]
    assert len(record["numbers"]) == 2 and (out / "data-size" / "data_size_db.png").is_file()
    mine = next(v for k, v in record["numbers"].items() if k.startswith("tiny images"))
    assert mine["sizes"][-1] < 220 and mine["queries"] == 22
    best = mine["per_size"][str(mine["sizes"][-1])]
    assert best["accuracy_uniform"] > 0.9  # reds and blues: trivially told apart
    assert record["settings"]["db"] == str(db.root.resolve())


# Numbers made by hand to hold and to fail, from each claim's own statement (not from the
# verdict's code), in the shape results.json records: a verdict forced true or false fails.
def _series(keys, start, step):
    return {k: start + step * i for i, k in enumerate(keys)}


def _cases(name):
    layers = ["conv1_1", "pool1", "pool2", "pool3", "pool4"]
    if name == "siblings":
        return ({"mean_ab_error": {"siblings": 8.0, "random": 12.0}},
                {"mean_ab_error": {"siblings": 12.0, "random": 8.0}})  # fmt: skip
    if name == "colorize-loss":
        losses = ["L2 regression", "classification", "classification + rebalancing"]
        return tuple({n: {"colourfulness": v} for n, v in zip(losses, c, strict=True)}
                     for c in ((10.0, 12.0, 20.0), (20.0, 12.0, 10.0)))  # fmt: skip
    if name == "pix2pix-loss":
        variants = ["L1", "cGAN", "L1 + cGAN", "L1 + cGAN, encoder-decoder"]
        return tuple({v: {"FID_lite0": float(f)} for v, f in zip(variants, fids, strict=True)}
                     for fids in ((90, 80, 60, 95), (60, 80, 90, 95)))  # fmt: skip
    if name == "texture-layers":
        return ({"gram_distance": _series(layers, 1.0, -0.1)},
                {"gram_distance": _series(layers, 0.5, 0.1)})  # fmt: skip
    if name == "style-tradeoff":
        ratios = ["0.001", "0.01", "0.1"]
        up, down = _series(layers, 0.1, 0.1), _series(ratios, 1.0, -0.1)
        return ({"reconstruction_pixel_error": up, "style_gram_distance": down},
                {"reconstruction_pixel_error": _series(layers, 0.5, -0.1),
                 "style_gram_distance": _series(ratios, 0.2, 0.1)})  # fmt: skip
    if name == "mlp-capacity":
        keys = [f"{d} / {m}" for d in ("gauss", "xor", "circle", "spiral")
                for m in ("perceptron", "mlp 4", "mlp 8,8")]  # fmt: skip
        return tuple({"accuracy": {k: (low if k.endswith("perceptron") else high) for k in keys}}
                     for low, high in ((0.6, 0.95), (0.65, 0.7)))  # fmt: skip
    if name == "data-size":

        def dataset(sign):
            sizes = [100, 1000, 10000]
            rows = {str(s): {"target_roc_auc": 0.7 + sign * 0.05 * i,
                             "accuracy_uniform": 0.5 + sign * 0.1 * i,
                             "accuracy_distance-weighted": 0.5 + sign * 0.1 * i}
                    for i, s in enumerate(sizes)}  # fmt: skip
            return {"sizes": sizes, "per_size": rows}

        return {"Fashion-MNIST": dataset(1)}, {"Fashion-MNIST": dataset(-1)}
    raise AssertionError(f"no hand-made case for {name}: add one")


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_each_verdict_reads_the_claim_from_the_numbers(name):
    held, failed = _cases(name)
    verdict = EXPERIMENTS[name].verdict
    assert verdict(held) is True and verdict(failed) is False


def test_the_verdicts_at_their_edges():
    from photogen.experiments import verdicts as V

    size = {"sizes": [1, 2], "per_size": {
        "1": {"target_roc_auc": 0.8, "accuracy_uniform": 0.5, "accuracy_distance-weighted": 0.5},
        "2": {"target_roc_auc": 0.796, "accuracy_uniform": 0.6,
              "accuracy_distance-weighted": 0.6}}}  # fmt: skip
    assert V.data_size({"a": size})  # an AUC dip within 0.005 is noise
    size["per_size"]["2"]["target_roc_auc"] = 0.794
    assert not V.data_size({"a": size})
    size["per_size"]["2"]["target_roc_auc"] = 0.9
    size["per_size"]["2"]["accuracy_uniform"] = 0.5  # one vote flat: fails
    assert not V.data_size({"a": size})
    losses = ["L2 regression", "classification", "classification + rebalancing"]
    assert not V.colorize_loss({n: {"colourfulness": v} for n, v in zip(losses, (10, 25, 20),
                                                                         strict=True)})  # fmt: skip
    acc = {"gauss / perceptron": 0.99, "gauss / mlp": 0.5, "xor / perceptron": 0.5,
           "xor / mlp": 0.6}  # fmt: skip
    assert not V.mlp_capacity({"accuracy": acc})  # gauss is left out; 0.1 is not > 0.1
    acc["xor / mlp"] = 0.61
    assert V.mlp_capacity({"accuracy": acc})
    assert not V.siblings({"mean_ab_error": {"siblings": 5.0, "random": 5.0}})


def test_the_catalogue_is_the_lectures_order_and_the_clis_names():
    from photogen.cli.experiment import NAMES

    assert list(EXPERIMENTS) == ["data-size", "siblings", "colorize-loss", "pix2pix-loss",
                                 "texture-layers", "style-tradeoff", "mlp-capacity"]  # fmt: skip
    assert tuple(EXPERIMENTS) == NAMES


def test_the_verdicts_compare_the_ends_and_ties_do_not_hold():
    """The claims compare the first and the last point of a series, strictly (mutation
    survivors: a series read at its second point, <= for <)."""
    from photogen.experiments import verdicts as V

    layers = ["conv1_1", "pool1", "pool2", "pool3", "pool4"]
    zig = dict(zip(layers, [1.0, 1.2, 0.9, 1.1, 0.8], strict=True))  # ends fall, not monotone
    assert V.texture_layers({"gram_distance": zig})
    assert not V.texture_layers({"gram_distance": {**zig, "pool4": 1.0}})  # a tie
    e = dict(zip(layers, [0.1, 0.05, 0.3, 0.02, 0.2], strict=True))
    d = {"1": 1.0, "0.1": 1.5, "0.01": 0.4, "0.001": 1.2, "0.0001": 0.5}
    assert V.style_tradeoff({"reconstruction_pixel_error": e, "style_gram_distance": d})
    for bad_e, bad_d in (({**e, "pool4": 0.1}, d), (e, {**d, "0.0001": 1.0}),
                         (e, {**d, "0.0001": 1.7})):  # fmt: skip
        assert not V.style_tradeoff({"reconstruction_pixel_error": bad_e,
                                     "style_gram_distance": bad_d})  # fmt: skip
    losses = ["L2 regression", "classification", "classification + rebalancing"]
    tie = {n: {"colourfulness": v} for n, v in zip(losses, (20, 10, 20), strict=True)}
    assert not V.colorize_loss(tie)
    fid = {"L1": 80.0, "cGAN": 70.0, "L1 + cGAN": 80.0, "L1 + cGAN, encoder-decoder": 90.0}
    assert not V.pix2pix_loss({k: {"FID_lite0": v} for k, v in fid.items()})
    fid.update({"L1 + cGAN": 60.0, "L1 + cGAN, encoder-decoder": 60.0})
    assert not V.pix2pix_loss({k: {"FID_lite0": v} for k, v in fid.items()})
    sizes = [10, 100, 1000]
    rows = {str(s): {"target_roc_auc": 0.8, "accuracy_uniform": a,
                     "accuracy_distance-weighted": a}
            for s, a in zip(sizes, (0.5, 0.4, 0.6), strict=True)}  # fmt: skip
    assert V.data_size({"x": {"sizes": sizes, "per_size": rows}})  # first to last rises
    acc = {f"{d} / {m}": v for d in ("xor", "circle")
           for m, v in (("perceptron", 0.5), ("mlp 4", 0.5), ("mlp 8,8", 0.9))}  # fmt: skip
    assert V.mlp_capacity({"accuracy": acc})  # the largest model is the last
