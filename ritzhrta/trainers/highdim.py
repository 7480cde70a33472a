"""The highdim trainer: the high-dimensional route (:func:`ritzhrta.training.highdim.solve_highdim`)
as one solve stage on a :class:`~ritzhrta.nets.highdim.HighDimNet`: it chooses the family
(ANOVA-1, ANOVA-2, separated) by the residual estimate and puts the chosen model into the net."""
from __future__ import annotations

import torch

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list[float]:
    """One route: nothing to resume inside it (a stop between candidates keeps the best so far)."""
    from ritzhrta.training.highdim import residual_estimate, solve_highdim

    net = run.net
    model, report = solve_highdim(run.problem, net.features, tol=run.tol, seed=run.sampler.seed or 0,
                                  width=net.width, stop=stop)
    net.set_model(model, report)
    with torch.no_grad():
        value = float(residual_estimate(model, run.problem, run.sampler.interior, run.sampler.boundary)["h1"])
    record(1, value)
    return [value]


def _check(net, loss) -> None:
    from ritzhrta.nets.highdim import HighDimNet

    if not isinstance(net, HighDimNet):
        raise ValueError("the highdim trainer needs a HighDimNet (ritzhrta.nets.highdim): the route chooses the "
                         "model itself")
    if getattr(loss, "name", None) != "residual":
        raise ValueError("the highdim trainer solves the strong-form residual: use the residual loss")


TRAINER = Trainer("highdim", run_stage, check=_check, one_step=True, gauss_rule=False)
