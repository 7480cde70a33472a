"""The galerkin trainer: one exact solve of the output layer for the frozen hidden layer."""
from __future__ import annotations

import torch

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list[float]:
    """One output solve: nothing to resume inside it (a stop takes effect after it)."""
    from ritzhrta.training import dist
    from ritzhrta.training.loop import calibrated_loss, stage_ridge
    from ritzhrta.training.lstsq import fit_output_layer

    interior, boundary = run.sampler.interior, run.sampler.boundary
    loss = calibrated_loss(run.loss, run, interior, boundary)
    fit_output_layer(run.net, run.problem, interior, loss, boundary=boundary, ridge=stage_ridge(stage, run.net, loss))
    with torch.no_grad():
        value = float(dist.all_sum(loss(run.net, run.problem, interior, boundary)))
    record(1, value)
    return [value]


def _check(net, loss) -> None:
    if not callable(getattr(loss, "quadratic", None)):
        raise ValueError("the galerkin trainer needs a loss object (H1Loss, L2Loss, RitzLoss, ResidualLoss)")


def _ridge(net) -> float:
    from ritzhrta.training.lstsq import galerkin_ridge

    return galerkin_ridge(net)


TRAINER = Trainer("galerkin", run_stage, check=_check, one_step=True, distributed=True, ridge=_ridge)
