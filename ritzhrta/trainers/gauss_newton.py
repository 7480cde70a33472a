"""The gauss-newton trainer: Gauss–Newton / energy natural gradient on all parameters."""
from __future__ import annotations

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None) -> list[float]:
    from ritzhrta.training.gauss_newton import gauss_newton_fit
    from ritzhrta.training.loop import calibrated_loss, stage_ridge

    interior, boundary = run.sampler.interior, run.sampler.boundary
    loss = calibrated_loss(run.loss, run, interior, boundary)
    return gauss_newton_fit(run.net, run.problem, interior, boundary, loss, iterations=iterations,
                            ridge=stage_ridge(stage, run.net), callback=record, resume=resume, stop=stop,
                            saved=saved).losses


def _check(net, loss) -> None:
    from ritzhrta.training.gauss_newton import check_gauss_newton

    check_gauss_newton(net, loss)


def _ridge(net) -> float:
    from ritzhrta.training.lstsq import galerkin_ridge

    return galerkin_ridge(net)


# Named without a size (benchmarks/results/trainer_routes.md: 2.7e-3 / 3.8e-3 on poisson2d-neumann /
# poisson2d-dirichlet in 3-4 CPU-s; the Adam defaults would run 6000 iterations on width 1000).
TRAINER = Trainer("gauss-newton", run_stage, check=_check, ridge=_ridge,
                  defaults={"width": 80, "k": 3, "dtype": "float64", "schedule": "0.5:5,1:10"})
