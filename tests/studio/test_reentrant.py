"""Inference the interactive lane runs from several threads at once gives the serial results.

Each test makes the threads meet inside the forward pass (a barrier in a forward hook): a
model that kept a call's parameters on the shared module (the temperature, the dropout
generators) would then compute every thread's result with the last thread's parameters, so
the comparison with the serial results fails every time, not by chance.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from photogen.pix2pix.infer import SeededDropout
from photogen.studio.sketch import SketchEngine, example_drawing, find_models

THREADS = 3


def _meet_inside(module: torch.nn.Module, parties: int) -> threading.Barrier:
    """A barrier the next ``parties`` forward passes of ``module`` wait at (then pass)."""
    barrier = threading.Barrier(parties, timeout=60)

    def hook(mod, args):
        if barrier.n_waiting < parties and not barrier.broken:
            barrier.wait()

    module.register_forward_pre_hook(hook)
    return barrier


def _concurrently(fns):
    with ThreadPoolExecutor(len(fns)) as pool:
        return [f.result(timeout=120) for f in [pool.submit(fn) for fn in fns]]


def test_translations_from_several_threads_equal_the_serial_ones(runs_dir):
    engine = SketchEngine(find_models([runs_dir]))
    name = "tiny_facades"
    translator = engine.translator(name)
    drawing = example_drawing(engine.models[name])
    x = drawing * 2 - 1
    seeds = [11, 22, 33]  # a different dropout seed per thread
    serial = [translator(x, [s]) for s in seeds]
    assert not torch.equal(serial[0], serial[1])  # the seeds matter, so a mix-up shows
    first_dropout = next(m for m in translator.model.modules() if isinstance(m, SeededDropout))
    _meet_inside(first_dropout, THREADS)
    together = _concurrently([lambda s=s: translator(x, [s]) for s in seeds])
    for a, b in zip(serial, together, strict=True):
        assert torch.equal(a, b)


def test_colour_clicks_at_different_temperatures_at_once_equal_the_serial_ones():
    from photogen.studio.colorize import ColorizeService

    service = ColorizeService({"lite": "lite"})
    torch.manual_seed(0)
    photo = torch.rand(1, 3, 48, 64)
    temps = [0.1, 0.38, 1.0]
    serial = [service.colorize(photo, "lite", t) for t in temps]
    assert (serial[0] - serial[2]).abs().max() > 1e-3  # the temperature matters
    service._auto.clear()  # compute again, this time from three threads at once
    model = service.model("lite")
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    _meet_inside(first_conv, THREADS)
    together = _concurrently([lambda t=t: service.colorize(photo, "lite", t) for t in temps])
    for a, b in zip(serial, together, strict=True):
        assert torch.equal(a, b)
    assert service.model("lite").temperature == 0.38  # the shared model was not modified


def test_flow_is_a_function_of_its_two_frames_in_any_thread_and_any_history():
    from photogen.core import flow

    rng = np.random.default_rng(0)
    a = (rng.random((64, 80)) * 255).astype(np.uint8)
    b = np.roll(a, 3, axis=1)
    serial = flow.dis_flow(a, b, "fast")
    # a DIS object reused gives another answer on its second call (it keeps state): a cached
    # object would make a resumed video, or a second visitor, see other flow
    np.testing.assert_array_equal(flow.dis_flow(a, b, "fast"), serial)
    together = _concurrently([lambda: flow.dis_flow(a, b, "fast") for _ in range(THREADS)])
    for f in together:
        np.testing.assert_array_equal(f, serial)


@pytest.mark.parametrize("engine", ["onnxruntime", "openvino"])
def test_exported_engines_answer_threads_at_once(engine):
    pytest.importorskip(engine)
    from photogen.core.engines import compile_module

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 3, 3, padding=1))  # fmt: skip
    inputs = [torch.rand(1, 3, 32, 32) for _ in range(THREADS)]
    run = compile_module(net, inputs[0], engine)
    serial = [run(x) for x in inputs]
    barrier = threading.Barrier(THREADS, timeout=60)

    def many(x):
        barrier.wait()
        return [run(x) for _ in range(20)]

    together = _concurrently([lambda x=x: many(x) for x in inputs])
    for ref, outs in zip(serial, together, strict=True):
        for out in outs:
            assert torch.equal(out, ref)
