"""Two pix2pix steps under DDP on one sample per process (run by torchrun from
``test_ddp_gradients_equal_a_single_process_run``); rank 0 saves the weights."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
from torch import nn

from photogen.pix2pix.networks import define_D, define_G, init_weights
from photogen.pix2pix.step import DiscriminatorPair, Pix2PixStep, make_optimizer


def networks():
    gen = torch.Generator().manual_seed(3)
    G = init_weights(define_G("unet_128", 3, 3, 4, "none", False), generator=gen)
    D = init_weights(define_D("basic", 6, 4, 3, "none"), generator=gen)
    return G, D


def batch():
    g = torch.Generator().manual_seed(5)
    return torch.rand(2, 3, 128, 128, generator=g) * 2 - 1, torch.rand(
        2, 3, 128, 128, generator=g
    ) * 2 - 1


def run_steps(G, D, netG, pairD, a, b, steps=2):
    cpu = torch.device("cpu")
    optG, optD = (
        make_optimizer(G.parameters(), 2e-4, 0.5, cpu),
        make_optimizer(D.parameters(), 2e-4, 0.5, cpu),
    )
    step = Pix2PixStep(netG, pairD, optG, optD, 100.0, "vanilla", D)
    for _ in range(steps):
        step(a, b)


def main(out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.set_num_threads(1)
    G, D = networks()
    a, b = batch()
    netG = nn.parallel.DistributedDataParallel(G)
    pairD = nn.parallel.DistributedDataParallel(DiscriminatorPair(D))
    run_steps(G, D, netG, pairD, a[rank : rank + 1], b[rank : rank + 1])
    if rank == 0:
        torch.save({"G": G.state_dict(), "D": D.state_dict()}, out)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
