"""The solver: :func:`solve` trains a network through the stages of a schedule (METHOD §3).

The parameters carry over between stages; only s changes. The loop itself lives in
:mod:`ritzhrta.training.loop`; this module checks the arguments, builds the point sets, and
shows the progress bar (the only tqdm import).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from ritzhrta.training import dist
from ritzhrta import trainers
from ritzhrta.geometry.domains import METHODS, Points
from ritzhrta.training.loop import DivergenceError, Run, RunState, run_stages
from ritzhrta.forms.losses import H1Loss
from ritzhrta.forms.norms import evaluation_points, relative_errors
from ritzhrta.outputs.results import Result, StepInfo
from ritzhrta.training.sampling import Sampler
from ritzhrta.schedule import Stage, schedule_steps
from ritzhrta.training.estimate import DEFAULT_TOL, check_tol, estimate_run
from ritzhrta.training.steps import CompiledStep

__all__ = ["solve", "DivergenceError", "default_quadrature", "check_exact", "INCONSISTENT"]


def solve(problem, net: nn.Module | None = None, schedule: Sequence[Stage] | None = None, *,
          loss: Callable | None = None,
          lr: float = 1e-3, points: int | None = None, sampling: str | None = None,
          boundary_points: int | None = None, resample_every: int = 0, seed: int = 0,
          closed_form: bool = True, eval_points: Points | None = None,
          eval_every: int = 0, progress: bool = True, callback: Callable[[StepInfo], bool | None] | None = None,
          checkpoint: Callable[[dict], None] | None = None, checkpoint_every: int = 0,
          resume: dict | None = None, lr_scale: float = 1.0, compile: bool = False,
          sync_every: int | None = None, quadrature: tuple[int, int] | None = None,
          estimate: bool = True, tol: float = DEFAULT_TOL, stop: Callable[[], bool] | None = None) -> Result:
    """Train ``net`` on ``problem`` through the stages of ``schedule`` and return a :class:`Result`.

    ``solve(problem)`` alone runs the default route of ``ritzhrta solve NAME``
    (:func:`ritzhrta.training.routes.default_config`: network, schedule and loss chosen for the problem's
    kind; ``seed`` draws its network too).

    loss: a loss object (:class:`~ritzhrta.forms.losses.H1Loss` by default, ``L2Loss``, ``RitzLoss(beta=...)``)
    or any callable (net, problem, interior, boundary) -> scalar (gradient stages only).
    points/sampling: number and kind ("grid" | "random" | "sobol") of interior training
    points (default: the problem's suggestion); boundary_points defaults to 4·sqrt(points)
    (only losses with boundary terms use them). resample_every > 0 draws new random points
    every that many steps. The device and dtype are those of ``net``'s parameters. Stage
    0's s is set before anything is measured. ``eval_every`` > 0 records the relative
    errors on the evaluation set every that many steps. ``callback`` is called after every
    step with a :class:`StepInfo`; returning True stops the run (status "stopped").
    ``checkpoint(state)`` is called at every stage end and every ``checkpoint_every`` steps
    with a state that ``resume=state`` continues exactly. ``lr_scale`` multiplies every
    learning rate (used to retry after a divergence). ``compile=True`` runs each gradient
    step through ``torch.compile`` (falls back to eager with a warning where compilation
    fails; ``Result.compiled_steps`` counts the compiled ones). ``sync_every``: read the
    loss back every that many steps (default 1 on CPU, 64 on CUDA; a NaN is then detected
    up to that many steps late, and with > 1 the NaN check before each update is skipped).
    ``quadrature=(order, cells)`` trains on the domain's Gauss rule instead of sampled
    points; it is the default (:func:`default_quadrature`) when a stage uses the
    "galerkin" or "gauss-newton" trainer and neither ``points`` nor ``sampling`` is given
    (``problem.domain.default_rule()``: :func:`default_quadrature` on boxes, disks and
    polygons, about 20 000 (2D) / 40 000 (3D) points on a mesh).
    A Nitsche Ritz loss with ``beta=None`` is calibrated on the initial network for
    gradient stages and at the start of each solve stage.
    ``estimate``: put an a-posteriori estimate of the relative H¹ error in
    ``Result.estimate`` (:func:`ritzhrta.training.estimate.estimate_run`: a second independent draw for
    a one-shot solve on analytic features, else the distance to an independent residual-route
    reference solve); above ``tol`` (or on a re-entrant corner) an
    :class:`~ritzhrta.training.estimate.UnresolvedWarning` is issued.
    ``stop()``: asked once training has finished; True skips the estimate (``Result.estimate`` None,
    status "stopped": a stop that came after the last step is honoured, not dropped).
    """
    tol = check_tol(tol)
    if net is None and schedule is None:
        from ritzhrta.training.routes import default_config

        config = default_config(problem, seed=seed)
        schedule = config.stages()
        net = config.build_model(problem, schedule[0].s_at(0))
        loss = config.build_loss() if loss is None else loss
    elif net is None or schedule is None:
        raise ValueError("give both net and schedule, or neither (solve(problem): the default route)")
    loss = H1Loss() if loss is None else loss
    if not (isinstance(lr_scale, (int, float)) and math.isfinite(lr_scale) and lr_scale > 0):
        raise ValueError(f"lr_scale must be a finite number > 0, got {lr_scale!r}")
    if isinstance(loss, str):
        raise TypeError(f"loss must be a loss object or a callable, got the string {loss!r}; "
                        "use ritzhrta.H1Loss(), L2Loss() or RitzLoss(beta=...)")
    if not callable(loss):
        raise TypeError(f"loss must be callable (net, problem, interior, boundary) -> scalar, got {loss!r}")
    stages = _check_schedule(schedule)
    if not hasattr(net, "set_s"):
        raise TypeError("net must be a ritzhrta network with set_s() (TwoLayerNet, MLP)")
    if net.dim != problem.dim:
        raise ValueError(f"net takes {net.dim}-dimensional input but the problem is {problem.dim}-dimensional")
    if hasattr(loss, "check"):
        loss.check(problem)
    if getattr(loss, "dirichlet", None) == "exact":
        from ritzhrta.forms.losses import check_exact_network

        check_exact_network(net)
    if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points < 1):
        raise ValueError(f"points must be a positive integer, got {points!r}")
    n = points or problem.points
    method = sampling or problem.sampling
    if method not in METHODS:
        raise ValueError(f"sampling must be one of {METHODS}, got {method!r}")
    if resample_every and method == "grid":
        method = "random"  # a grid would redraw the same points
    p0 = next(net.parameters())
    nb = boundary_points or max(4, 4 * math.ceil(math.sqrt(n)))
    if sync_every is None:
        sync_every = 1 if p0.device.type == "cpu" else 64
    if isinstance(sync_every, bool) or not isinstance(sync_every, int) or sync_every < 1:
        raise ValueError(f"sync_every must be a positive integer, got {sync_every!r}")
    torch.manual_seed(seed)
    if dist.active():
        unsupported = sorted(t for t in {st.trainer for st in stages} - {"gradient"} if not trainers.get(t).distributed)
        if unsupported or compile:
            raise ValueError("a distributed solve shards the points of gradient and galerkin stages; "
                             f"not supported: {', '.join(unsupported + (['compile'] if compile else []))}")
        dist.broadcast_params(net)
    solvers = [trainers.get(t) for t in dict.fromkeys(st.trainer for st in stages) if t != "gradient"]
    for trainer in solvers:  # each trainer's own checks (ritzhrta.trainers)
        trainer.check(net, loss)
    if quadrature is None and points is None and sampling is None and any(t.gauss_rule for t in solvers):
        from ritzhrta.training.lstsq import output_size
        from ritzhrta.forms.residual import ROWS_PER_UNKNOWN, residual_rule

        if problem.dim > 3:  # a tensor rule grows as n^d: scrambled Sobol points instead (issue 26)
            n = nb = max(problem.points, ROWS_PER_UNKNOWN * output_size(net))
            method = "sobol"
        elif getattr(loss, "uses_laplacian", False):
            quadrature = residual_rule(problem.domain, output_size(net))
        else:
            quadrature = problem.domain.default_rule()
    if quadrature is not None:
        from ritzhrta.geometry.quadrature import check_rule_size

        quadrature = check_rule_size(*quadrature)
        if resample_every:
            raise ValueError("a quadrature rule is fixed: resample_every needs sampled points")
    sampler = Sampler(problem, n, method, nb, seed, resample_every, p0.dtype, p0.device, rule=quadrature)
    if hasattr(problem, "check_data"):  # NaN/inf data: named with its callable and a point, before any training
        problem.check_data(sampler.interior.x, None if sampler.boundary is None else sampler.boundary.x)
    if eval_points is None and problem.has_exact:
        eval_points = evaluation_points(problem, dtype=p0.dtype, device=p0.device)
    run = Run(problem=problem, net=net, stages=stages, loss=loss, lr=lr, sampler=sampler, eval_points=eval_points,
              eval_every=eval_every, callback=callback, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
              lr_scale=float(lr_scale), closed_form=closed_form, sync_every=sync_every,
              compiler=CompiledStep() if compile else None, tol=tol)
    if resume is None:
        net.set_s(stages[0].s_at(0))
        if hasattr(loss, "calibrated") and stages[0].trainer == "gradient":
            loss = run.loss = loss.calibrated(net, problem, sampler.interior, sampler.boundary)
        run.initial_errors = relative_errors(net, problem, eval_points) if problem.has_exact else {}
        state = RunState()
    else:
        state = RunState.from_dict(resume, run)
        if getattr(loss, "beta", 0) is None and resume.get("loss_beta") is not None:
            run.loss = dataclasses.replace(loss, beta=resume["loss_beta"])  # the calibrated β of the run
        run.initial_errors = dict(resume.get("initial_errors", {}))
    bar = tqdm(total=schedule_steps(stages), initial=len(state.history), disable=not progress, unit="step",
               dynamic_ncols=True, mininterval=0.5)
    result = run_stages(run, state, bar)
    if result.status == "finished" and stop is not None and stop():
        result.status = "stopped"  # after the last step, before the estimate: the checkpoint holds it all
        return result
    if estimate:
        if dist.active():
            result.estimate = {"h1": None, "reason": "no estimate in a distributed solve (run it in one process)"}
        else:
            result.estimate = estimate_run(run, tol) if result.status == "finished" else None
            result.estimate_net = (result.estimate or {}).pop("_net", None)
            check_exact(problem, result, tol)
    return result


def check_exact(problem, result, tol: float) -> None:
    """Issue 32's consistency check: a solve its estimate calls resolved that is far from the given exact
    solution (H¹ distance above ``tol`` and :data:`INCONSISTENT` times the estimate) says in one line that
    the exact solution does not satisfy the problem (a source of the wrong sign, say), as a warning and in
    ``Result.estimate["warnings"]``."""
    from ritzhrta.training.estimate import UnresolvedWarning, user_stacklevel

    est, err = result.estimate or {}, (result.errors or {}).get("h1")
    eta = est.get("h1")
    if eta is None or err is None or not math.isfinite(tol) or not (eta <= tol):
        return
    if err > max(tol, INCONSISTENT * eta):
        line = (f"the given exact solution does not satisfy the problem: the solve is {err:.2g} from it in relative "
                f"H¹ while its own estimate is {eta:.2g} (check the source's sign, the data and u*)")
        est.setdefault("warnings", []).append(line)
        est["exact_consistent"] = False
        import warnings

        warnings.warn(line, UnresolvedWarning, stacklevel=user_stacklevel())


INCONSISTENT = 100.0  # measured effectivities lie in 0.2-3 (benchmarks/results/estimate.md, highdim.md)


def default_quadrature(dim: int) -> tuple[int, int]:
    """(order, cells) of the default Gauss rule: 6 × 32 in 1D, 6 × 12 in 2D (72² points),
    4 × 5 in 3D (20³ points), 3 × 2 beyond."""
    return {1: (6, 32), 2: (6, 12), 3: (4, 5)}.get(dim, (3, 2))


def _check_schedule(schedule: Sequence[Stage]) -> tuple[Stage, ...]:
    if isinstance(schedule, Stage):
        schedule = (schedule,)
    stages = tuple(schedule)
    if not stages:
        raise ValueError("the schedule has no stages")
    for st in stages:
        if not isinstance(st, Stage):
            raise TypeError(f"a schedule holds Stage objects, got {type(st).__name__}")
    return stages
