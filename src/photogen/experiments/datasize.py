"""Torralba, Fergus, Freeman 2008, Fig. 20: recognition by nearest neighbours gets better with
the size of the database, whatever the voting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from photogen.core.gallery import pyplot, save_figure
from photogen.experiments import verdicts
from photogen.experiments.base import Experiment, Outcome, Settings
from photogen.tinyimages.tiny import d_ssd, normalise
from photogen.tinyimages.vote import vote

K = 10  # neighbours that vote
SIGMA = 0.1  # distance weighting exp(-d / sigma), tinyimages.vote's default


def _dataset(settings: Settings):
    """(train_x, train_y, test_x, test_y, name, class names): Fashion-MNIST (Debian
    dataset-fashion-mnist), else scikit-learn's 8x8 digits (always installed)."""
    try:
        from photogen.core.datasets import fashion_mnist

        tx, ty, vx, vy = fashion_mnist()
        names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                 "sneaker", "bag", "ankle boot"]  # fmt: skip
        return tx, ty, vx, vy, "Fashion-MNIST", names
    except ValueError:
        from sklearn.datasets import load_digits

        d = load_digits()
        x = torch.from_numpy(d.images).float()[:, None] * (255 / 16)
        y = torch.from_numpy(d.target)
        g = torch.Generator().manual_seed(settings.seed)
        order = torch.randperm(len(y), generator=g)
        x, y = x[order], y[order]
        return (
            x[:1500],
            y[:1500],
            x[1500:],
            y[1500:],
            "scikit-learn digits",
            [str(i) for i in range(10)],
        )


def _roc(scores: np.ndarray, positive: np.ndarray):
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(positive, scores)
    prec, rec, _ = precision_recall_curve(positive, scores)
    return fpr, tpr, float(auc(fpr, tpr)), prec, rec, float(auc(rec, prec))


def _tiny_db(path: str, seed: int):
    """A tiny-images database (``photogen match build``; labels: the photos' folder names):
    10% of it (at most 1,000) held out as queries, the rest the database."""
    from photogen.tinyimages.database import TinyDB

    db = TinyDB(path)
    n = len(db)
    labels = db.catalogue("label")
    classes = sorted(set(labels))
    if n < 200 or len(classes) < 2:
        raise ValueError(f"{path}: need at least 200 tiny images in 2 or more labelled folders")
    x = db.tiny(np.arange(n))
    y = torch.tensor([classes.index(label) for label in labels])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    held = min(1000, n // 10)
    q, t = order[:held], order[held:]
    return x[t], y[t], x[q], y[q], f"tiny images of {Path(path).name}", classes


def _one(data, s: Settings, folder: Path, figure: str) -> tuple[dict, bool, str]:
    tx, ty, vx, vy, dname, classes = data
    n_train = len(ty)
    sizes = [max(K, n_train // 100), max(K, n_train // 10), n_train]
    queries = 100 if s.tiny else (len(vy) if s.full else min(1000, len(vy)))
    queries = min(queries, len(vy))
    if s.tiny:
        sizes = [max(K, n_train // 1000), max(K, n_train // 100), max(K, n_train // 10)]
    g = torch.Generator().manual_seed(s.seed)
    order = torch.randperm(n_train, generator=g)  # nested databases: each contains the smaller
    q = normalise(vx[:queries])
    truth = vy[:queries].numpy()
    # the detection task: the hardest class ("shirt"; "8"), or the most common of a database
    target = {"Fashion-MNIST": 6, "scikit-learn digits": 8}.get(
        dname, int(torch.bincount(ty).argmax())
    )
    numbers = {"dataset": dname, "queries": queries, "k": K, "sizes": sizes,
               "target": classes[target], "per_size": {}}  # fmt: skip
    plt = pyplot()
    fig, (ax_roc, ax_pr, ax_acc) = plt.subplots(1, 3, figsize=(13, 4), dpi=90)
    accs = {"uniform": [], "distance-weighted": []}
    aucs = []
    for size in sizes:
        idx = order[:size]
        db, labels = normalise(tx[idx]), [str(int(v)) for v in ty[idx]]
        d = torch.cat([d_ssd(q[i : i + 256], db) for i in range(0, queries, 256)])
        dist, nn = d.topk(min(K, size), dim=1, largest=False)
        row = {}
        for weighting in accs:
            correct, scores = 0, np.zeros((queries, len(classes)))
            for i in range(queries):
                best, _, votes = vote([labels[j] for j in nn[i].tolist()], dist[i], weighting,
                                      SIGMA)  # fmt: skip
                correct += int(best) == truth[i]
                total = sum(votes.values()) or 1.0
                for c in range(len(classes)):
                    scores[i, c] = votes.get(str(c), 0.0) / total
            accs[weighting].append(correct / queries)
            row[f"accuracy_{weighting}"] = round(correct / queries, 4)
            present = [c for c in range(len(classes)) if 0 < (truth == c).sum() < queries]
            per_class = [_roc(scores[:, c], truth == c)[2] for c in present]
            row[f"mean_roc_auc_{weighting}"] = round(float(np.mean(per_class)), 4)
            if weighting == "distance-weighted":
                fpr, tpr, a, prec, rec, ap = _roc(scores[:, target], truth == target)
                row["target_roc_auc"], row["target_pr_auc"] = round(a, 4), round(ap, 4)
                aucs.append(a)
                ax_roc.plot(fpr, tpr, label=f"{size:,} images (AUC {a:.3f})")
                ax_pr.plot(rec, prec, label=f"{size:,} images (AUC {ap:.3f})")
        numbers["per_size"][str(size)] = row
    for w, values in accs.items():
        ax_acc.plot(sizes, values, marker="o", label=w)
    ax_acc.set_xscale("log")
    ax_acc.set(xlabel="database size (images)", ylabel=f"accuracy ({len(classes)} classes)",
               title=f"{dname}: label vote of {K} neighbours")  # fmt: skip
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate",
               title=f"'{classes[target]}' vs rest: ROC")  # fmt: skip
    ax_pr.set(xlabel="recall", ylabel="precision", title=f"'{classes[target]}' vs rest: PR")
    for ax in (ax_roc, ax_pr, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, folder / figure)
    finding = (f"{dname}, {queries} queries: accuracy {accs['uniform'][0]:.1%} -> "
               f"{accs['uniform'][-1]:.1%} (uniform), {accs['distance-weighted'][0]:.1%} -> "
               f"{accs['distance-weighted'][-1]:.1%} (distance-weighted) from {sizes[0]:,} to "
               f"{sizes[-1]:,} images; '{classes[target]}' ROC AUC "
               + " -> ".join(f"{a:.3f}" for a in aucs))  # fmt: skip
    return numbers, finding


def data_size(folder: Path, s: Settings) -> Outcome:
    runs = [(_dataset(s), "data_size.png")]
    if s.db:  # a user's own tiny-images database, labels from its folders
        runs.append((_tiny_db(s.db, s.seed), "data_size_db.png"))
    numbers, findings, figures = {}, [], []
    for data, figure in runs:
        n, f = _one(data, s, folder, figure)
        numbers[n["dataset"]] = n
        findings.append(f)
        figures.append(figure)
    setup = (f"Nearest neighbours by sum of squared differences of normalised pixels (the tiny "
             f"images descriptor), {K} neighbours vote (uniformly, or weighted exp(-d/{SIGMA})); "
             "nested random databases of 1%, 10% and all of the training images of "
             + " and of ".join(n for n in numbers)
             + "; detection score = the class's share of the votes.")  # fmt: skip
    return Outcome(setup, numbers, figures, "; ".join(findings))


EXPERIMENT = Experiment(
    "data-size",
    "More data beats a cleverer algorithm",
    "Label voting by nearest neighbours recognises better as the database grows: ROC and "
    "precision-recall improve with size, for any voting rule.",
    "Torralba, Fergus, Freeman 2008, Fig. 20",
    run=data_size,
    verdict=verdicts.data_size,
)
