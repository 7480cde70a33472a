"""One gradient step and its helpers: optimizers by name, torch.compile with an eager
fallback, and the exact output refit inside a gradient stage."""
from __future__ import annotations

import warnings
from typing import Callable

import torch
from torch import Tensor

from ritzhrta.training.lstsq import DEFAULT_RIDGE, fit_output_layer

__all__ = ["OPTIMIZERS", "make_optimizer", "CompiledStep", "refit_output"]


def _adam(params, lr):
    return torch.optim.Adam(params, lr=lr)


def _sgd(params, lr):
    return torch.optim.SGD(params, lr=lr)


def _lbfgs(params, lr):
    return torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=50, line_search_fn="strong_wolfe")


OPTIMIZERS: dict[str, Callable] = {"adam": _adam, "sgd": _sgd, "lbfgs": _lbfgs}


def make_optimizer(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    """A fresh optimizer of the named kind (L-BFGS: one iteration per step, strong Wolfe)."""
    return OPTIMIZERS[name](params, lr)


class CompiledStep:
    """closure + optimizer step through ``torch.compile``, compiled once per (stage, optimizer).

    ``compiled`` counts the steps that ran compiled; a compiler failure warns once and
    switches to eager for the rest of the run (``failed`` holds the reason).
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.fn: Callable[[], Tensor] | None = None
        self.compiled = 0
        self.failed: str | None = None

    def __call__(self, key: tuple, closure: Callable[[], Tensor], opt: torch.optim.Optimizer) -> Tensor:
        if self.failed is None:
            if key != self.key:
                def full_step() -> Tensor:
                    value = closure()
                    opt.step()
                    return value

                self.key, self.fn = key, torch.compile(full_step)
            try:
                value = self.fn()
                self.compiled += 1
                return value
            except Exception as err:  # noqa: BLE001 - any compiler failure: fall back to eager
                self.failed = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
                warnings.warn(f"torch.compile failed ({self.failed}); running eagerly")
        value = closure()
        opt.step()
        return value


def refit_output(net, loss, problem, interior, boundary, opt: torch.optim.Optimizer | None, reset_state: bool,
                 ridge: float | None = None) -> None:
    """Exact output-layer solve (:func:`fit_output_layer`, ridge default :data:`DEFAULT_RIDGE`);
    with ``reset_state`` the optimizer forgets the output weights' moments (stale now)."""
    fit_output_layer(net, problem, interior, loss, boundary=boundary,
                     ridge=DEFAULT_RIDGE if ridge is None else ridge)
    if reset_state and opt is not None:
        for p in (net.a, getattr(net, "c", None)):
            if p is not None:
                opt.state.pop(p, None)
