"""The highdim trainer: the high-dimensional route (:func:`ritzhrta.training.highdim.solve_highdim`)
as one solve stage on a :class:`~ritzhrta.nets.highdim.HighDimNet`: it chooses the family
(ANOVA-1, ANOVA-2, separated, active subspace) by the residual estimate and puts the chosen model
into the net. A stop (Ctrl-C, the callback) is asked between candidates and inside the
Levenberg–Marquardt loop: the route ends there, the stage stays unfinished (nothing recorded), and a
resume runs the route again from its start — it is deterministic, so the resumed run equals an
uninterrupted one."""
from __future__ import annotations

import math

import torch

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list[float]:
    """One route; a stop inside it leaves ``saved`` = {"restart": True} (the stage is run again)."""
    from ritzhrta.outputs.results import StepInfo
    from ritzhrta.training.highdim import residual_estimate, solve_highdim

    net = run.net
    asked = []

    def stopped() -> bool:  # the run's own stop request (the callback: Ctrl-C in the CLI), asked mid-route
        if not asked and run.callback is not None:
            if run.callback(StepInfo(-1, -1, 1.0, math.nan, 0.0, net)):
                asked.append(True)
        return bool(asked) or (stop is not None and stop())

    model, report = solve_highdim(run.problem, net.features, tol=run.tol, seed=run.sampler.seed or 0,
                                  width=net.width, stop=stopped)
    if asked:
        if saved is not None:
            saved["restart"] = True
        return []
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
