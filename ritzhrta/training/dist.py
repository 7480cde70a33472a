"""One solve across processes with torch.distributed: the quadrature points are sharded.

Every loss of this package is a weighted sum over points, Σ_i ω_i ℓ(x_i) (plus boundary
sums), so with the points split across ranks the loss, its gradient and the output solve's
normal equations are sums of per-rank parts: each rank evaluates its shard and the parts
are all-reduced. The one non-separable term, the mean-zero penalty (Σ ω u)² of a pure
Neumann problem, reduces the inner sum first. The parameters start equal on every rank
(broadcast from rank 0) and stay equal, since every rank applies the same reduced update.

Outside ``torchrun`` (or any initialised process group of one process) every function here
is the identity and costs nothing.
"""
from __future__ import annotations

import os
from dataclasses import replace

import torch
from torch import Tensor, nn

__all__ = ["active", "rank", "world_size", "init", "shard", "all_sum", "all_sum_grad", "sum_grads", "broadcast_params"]


def active() -> bool:
    """True inside an initialised process group of more than one process."""
    return (torch.distributed.is_available() and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1)


def rank() -> int:
    return torch.distributed.get_rank() if active() else 0


def world_size() -> int:
    return torch.distributed.get_world_size() if active() else 1


def init(device: str = "cpu") -> tuple[int, int]:
    """Join the process group that ``torchrun`` describes in the environment (backend gloo on
    the CPU, nccl on CUDA); returns (rank, world size). ValueError if not started by torchrun."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ValueError("--distributed needs the environment of torchrun, e.g. "
                           "torchrun --standalone --nproc-per-node 2 -m ritzhrta solve NAME --distributed")
    if not torch.distributed.is_initialized():
        backend = "nccl" if str(device).startswith("cuda") else "gloo"
        torch.distributed.init_process_group(backend=backend)
    if str(device).startswith("cuda"):
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def shard(points):
    """This rank's share of a point set (every world_size-th point, weights unchanged, so the
    per-rank sums add up to the full quadrature)."""
    if points is None or not active():
        return points
    r, n = rank(), world_size()
    take = lambda t: None if t is None else t[r::n].contiguous()  # noqa: E731
    return replace(points, x=take(points.x), w=take(points.w), normals=take(points.normals))


def all_sum(t: Tensor) -> Tensor:
    """Σ over ranks of a tensor, without autograd (a copy; the input is left alone)."""
    if not active():
        return t
    out = t.detach().clone()
    torch.distributed.all_reduce(out)
    return out


def all_sum_grad(t: Tensor) -> Tensor:
    """Σ over ranks with autograd: the backward pass sums the incoming gradients too."""
    if not active():
        return t
    from torch.distributed.nn.functional import all_reduce

    return all_reduce(t)


def sum_grads(params) -> None:
    """Replace each parameter's gradient by its sum over ranks."""
    if not active():
        return
    for p in params:
        if p.grad is not None:
            torch.distributed.all_reduce(p.grad)


def broadcast_params(net: nn.Module) -> None:
    """Make every rank start from rank 0's parameters."""
    if not active():
        return
    with torch.no_grad():
        for t in list(net.parameters()) + list(net.buffers()):
            torch.distributed.broadcast(t, 0)
