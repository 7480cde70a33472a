"""The solver: a plain loop over stages and steps (METHOD §3, HRTA).

For each stage p: ``net.set_s(s)``, a fresh optimizer (unless the stage keeps the
previous one), then gradient steps on the loss until the step count or the stage's
plateau rule ends it. The parameters carry over between stages; only s changes.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .domains import METHODS, Points
from .homotopy import Stage, schedule_steps
from .losses import DEFAULT_BETA, ritz_energy, sobolev_loss
from .norms import evaluation_points, relative_errors
from .problem import Problem, Target
from .results import History, Result, StageReport, StepInfo

__all__ = ["solve", "LOSSES", "DivergenceError", "make_loss"]

LossFn = Callable[[nn.Module, Union[Problem, Target], Points, Union[Points, None]], Tensor]
LOSSES = ("h1", "l2", "ritz")


class DivergenceError(FloatingPointError):
    """The loss became NaN or infinite; ``result`` holds the run up to the last finite step."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result


def make_loss(loss: str | LossFn, problem: Problem | Target, beta: float = DEFAULT_BETA,
              closed_form: bool = True) -> LossFn:
    """The loss function (net, problem, interior, boundary) -> scalar for a name or a callable."""
    if callable(loss):
        return loss
    if loss == "h1":
        return lambda net, pb, xi, xb: sobolev_loss(net, pb, xi, order=1, closed_form=closed_form)
    if loss == "l2":
        return lambda net, pb, xi, xb: sobolev_loss(net, pb, xi, order=0)
    if loss == "ritz":
        if not isinstance(problem, Problem):
            raise ValueError("the Ritz energy needs a PDE Problem; a Target has only the supervised 'l2'/'h1' losses")
        return lambda net, pb, xi, xb: ritz_energy(net, pb, xi, xb, beta=beta, closed_form=closed_form)
    raise ValueError(f"loss must be one of {LOSSES} or a callable, got {loss!r}")


def _optimizer(stage: Stage, params: list[Tensor], lr: float, previous: torch.optim.Optimizer | None):
    if stage.keep_optimizer and previous is not None and type(previous).__name__.lower() == stage.optimizer:
        return previous
    if stage.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr)
    if stage.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr)
    return torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=50, line_search_fn="strong_wolfe")


@dataclass
class _Sampler:
    """Training points, fixed or resampled every ``every`` steps."""

    problem: Problem | Target
    n: int
    method: str
    boundary_n: int
    seed: int
    every: int
    dtype: torch.dtype
    device: torch.device
    draws: int = 0
    interior: Points = field(init=False)
    boundary: Points | None = field(init=False)

    def __post_init__(self) -> None:
        self.draw()

    def draw(self) -> None:
        seed = self.seed + 1000003 * self.draws
        dom = self.problem.domain
        self.interior = dom.interior(self.n, self.method, seed, self.dtype, self.device)
        self.boundary = dom.boundary(self.boundary_n, self.method, seed + 1, self.dtype, self.device)
        self.draws += 1

    def step(self, global_step: int) -> None:
        if self.every and global_step and global_step % self.every == 0:
            self.draw()


def solve(problem: Problem | Target, net: nn.Module, schedule: Sequence[Stage], *, loss: str | LossFn = "h1",
          lr: float = 1e-3, points: int | None = None, sampling: str | None = None,
          boundary_points: int | None = None, resample_every: int = 0, seed: int = 0,
          beta: float = DEFAULT_BETA, closed_form: bool = True, eval_points: Points | None = None,
          eval_every: int = 0, progress: bool = True, callback: Callable[[StepInfo], None] | None = None
          ) -> Result:
    """Train ``net`` on ``problem`` through the stages of ``schedule`` and return a :class:`Result`.

    loss: "h1" (Sobolev), "l2" (zero-derivative case), "ritz" (Deep Ritz energy) or a
    callable (net, problem, interior, boundary) -> scalar. points/sampling: number and
    kind ("grid" | "random" | "sobol") of interior training points (default: the
    problem's suggestion); boundary_points defaults to 4·sqrt(points) (only the Ritz
    loss uses them). resample_every > 0 draws new random points every that many steps.
    The device and dtype are those of ``net``'s parameters. ``eval_every`` > 0 records
    the relative errors on the evaluation set every that many steps. ``callback`` is
    called after every step with a :class:`StepInfo`.
    """
    stages = _check_schedule(schedule)
    if not hasattr(net, "set_s"):
        raise TypeError("net must be a ritzhrta network with set_s() (TwoLayerNet, MLP)")
    if net.dim != problem.dim:
        raise ValueError(f"net takes {net.dim}-dimensional input but the problem is {problem.dim}-dimensional")
    loss_fn = make_loss(loss, problem, beta, closed_form)
    p0 = next(net.parameters())
    n = points or problem.points
    method = sampling or problem.sampling
    if method not in METHODS:
        raise ValueError(f"sampling must be one of {METHODS}, got {method!r}")
    if resample_every and method == "grid":
        method = "random"  # a grid would redraw the same points
    nb = boundary_points or max(4, 4 * math.ceil(math.sqrt(n)))
    torch.manual_seed(seed)
    sampler = _Sampler(problem, n, method, nb, seed, resample_every, p0.dtype, p0.device)
    if eval_points is None and problem.has_exact:
        eval_points = evaluation_points(problem, dtype=p0.dtype, device=p0.device)
    errors0 = relative_errors(net, problem, eval_points) if problem.has_exact else {}

    params = [p for p in net.parameters() if p.requires_grad]
    history, reports = History(), []
    sync_every = 1 if (p0.device.type == "cpu" or callback) else 64
    total = schedule_steps(stages)
    bar = tqdm(total=total, disable=not progress, unit="step", dynamic_ncols=True, mininterval=0.5)
    start_wall, start_cpu, step, opt = time.perf_counter(), time.process_time(), 0, None
    try:
        for p, stage in enumerate(stages):
            net.set_s(stage.s_at(0))
            base_lr = stage.lr or (1.0 if stage.optimizer == "lbfgs" else lr)
            opt = _optimizer(stage, params, base_lr, opt)
            t_stage, first = time.perf_counter(), len(history)
            pending: list[tuple[int, Tensor]] = []
            stage_losses: list[float] = []
            stopped_early = False
            for t in range(stage.steps):
                s_t = stage.s_at(t)
                if callable(stage.s):
                    net.set_s(s_t)
                cur_lr = base_lr * stage.lr_factor(t)
                for group in opt.param_groups:
                    group["lr"] = cur_lr
                sampler.step(step)

                def closure() -> Tensor:
                    opt.zero_grad(set_to_none=True)
                    value = loss_fn(net, problem, sampler.interior, sampler.boundary)
                    value.backward()
                    return value

                if stage.optimizer == "lbfgs":
                    value = opt.step(closure)
                else:
                    value = closure()
                    opt.step()
                pending.append((step, value.detach()))
                step += 1
                check = stage.until is not None and (t + 1) % stage.until.check_every == 0
                if len(pending) >= sync_every or check or t + 1 == stage.steps:
                    _flush(pending, history, stage_losses, p, s_t, cur_lr, start_wall, stage, net)
                    bar.update(len(pending))
                    pending = []
                    if step % 100 < sync_every or t + 1 == stage.steps:
                        bar.set_postfix_str(f"stage {p + 1}/{len(stages)} s={s_t:.3g} loss={history.loss[-1]:.3e}")
                    if callback is not None:
                        callback(StepInfo(step, p, s_t, history.loss[-1], cur_lr, net))
                if eval_every and step % eval_every == 0 and problem.has_exact:
                    history.record_errors(step, relative_errors(net, problem, eval_points))
                if check and stage.until.fired(stage_losses):
                    stopped_early = True
                    break
            reports.append(StageReport(p, stage.s_at(0), s_t, len(history) - first, history.loss[first],
                                       history.loss[-1], time.perf_counter() - t_stage, stopped_early))
    except DivergenceError as err:
        err.result = _result(net, problem, history, reports, errors0, eval_points, start_wall, start_cpu, "diverged")
        raise
    finally:
        bar.close()
    return _result(net, problem, history, reports, errors0, eval_points, start_wall, start_cpu, "finished")


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


def _flush(pending, history: History, stage_losses: list[float], p: int, s: float, lr: float,
           start: float, stage: Stage, net: nn.Module) -> None:
    values = torch.stack([v for _, v in pending]).tolist()
    now = time.perf_counter() - start
    for (step, _), value in zip(pending, values):
        if not math.isfinite(value):
            raise DivergenceError(f"the loss became {value} at step {step + 1} (stage {p + 1}, s = {s:g}, "
                                  f"lr = {lr:g}); lower the learning rate or check the problem data")
        history.append(step + 1, p, s, value, lr, now)
        stage_losses.append(value)


def _result(net, problem, history, reports, errors0, eval_points, start_wall, start_cpu, status) -> Result:
    errors = relative_errors(net, problem, eval_points) if problem.has_exact else {}
    return Result(net=net, history=history, stages=reports, errors=errors, initial_errors=errors0,
                  wall_seconds=time.perf_counter() - start_wall, cpu_seconds=time.process_time() - start_cpu,
                  status=status)
