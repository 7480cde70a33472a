"""The alternating trainer: exact least-squares solves of both layers (two-layer, k = 1; Barbu)."""
from __future__ import annotations

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list[float]:
    from ritzhrta.training.analytic import alternating_fit
    from ritzhrta.training.loop import stage_ridge

    return alternating_fit(run.net, run.problem, run.sampler.interior, loss=run.loss, iterations=iterations,
                           ridge=stage_ridge(stage, run.net), callback=record, resume=resume, stop=stop, saved=saved)


def _check(net, loss) -> None:
    from ritzhrta.training.analytic import check_alternating

    check_alternating(net, loss)


def _ridge(net) -> float:
    from ritzhrta.training.lstsq import DEFAULT_RIDGE

    return DEFAULT_RIDGE


# Named without a size (benchmarks/results/trainer_routes.md: 2 CPU-s on the 2D problems).
TRAINER = Trainer("alternating", run_stage, check=_check, ridge=_ridge, gauss_rule=False,
                  defaults={"width": 200, "k": 1, "dtype": "float64", "schedule": "0.5:10,1:10"})
