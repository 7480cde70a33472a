"""The solver: a plain loop over stages and steps (METHOD §3, HRTA).

For each stage p: ``net.set_s(s)``, a fresh optimizer (unless the stage keeps the
previous one), then gradient steps on the loss until the step count or the stage's
plateau rule ends it. The parameters carry over between stages; only s changes.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
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

    def redraw(self, draws: int) -> None:
        """Restore the point set of a run that had made ``draws`` draws."""
        self.draws = draws - 1
        self.draw()


def solve(problem: Problem | Target, net: nn.Module, schedule: Sequence[Stage], *, loss: str | LossFn = "h1",
          lr: float = 1e-3, points: int | None = None, sampling: str | None = None,
          boundary_points: int | None = None, resample_every: int = 0, seed: int = 0,
          beta: float = DEFAULT_BETA, closed_form: bool = True, eval_points: Points | None = None,
          eval_every: int = 0, progress: bool = True, callback: Callable[[StepInfo], bool | None] | None = None,
          checkpoint: Callable[[dict], None] | None = None, checkpoint_every: int = 0,
          resume: dict | None = None, lr_scale: float = 1.0, compile: bool = False) -> Result:
    """Train ``net`` on ``problem`` through the stages of ``schedule`` and return a :class:`Result`.

    loss: "h1" (Sobolev), "l2" (zero-derivative case), "ritz" (Deep Ritz energy) or a
    callable (net, problem, interior, boundary) -> scalar. points/sampling: number and
    kind ("grid" | "random" | "sobol") of interior training points (default: the
    problem's suggestion); boundary_points defaults to 4·sqrt(points) (only the Ritz
    loss uses them). resample_every > 0 draws new random points every that many steps.
    The device and dtype are those of ``net``'s parameters. ``eval_every`` > 0 records
    the relative errors on the evaluation set every that many steps. ``callback`` is
    called after every step with a :class:`StepInfo`; returning True stops the run
    (status "stopped"). ``checkpoint(state)`` is called at every stage end and every
    ``checkpoint_every`` steps with a state that ``resume=state`` continues exactly.
    ``lr_scale`` multiplies every learning rate (used to retry after a divergence).
    ``compile=True`` runs each gradient step (loss, backward, optimizer step) through
    ``torch.compile`` (Adam/SGD stages; compiles once per stage, falls back to eager
    with a warning where compilation fails). Measured 2.4× more steps per CPU-second
    for the H¹ step at width 1000 × 1024 points, after about a minute of compiling.
    """
    if not (isinstance(lr_scale, (int, float)) and math.isfinite(lr_scale) and lr_scale > 0):
        raise ValueError(f"lr_scale must be a finite number > 0, got {lr_scale!r}")
    stages = _check_schedule(schedule)
    if not hasattr(net, "set_s"):
        raise TypeError("net must be a ritzhrta network with set_s() (TwoLayerNet, MLP)")
    if net.dim != problem.dim:
        raise ValueError(f"net takes {net.dim}-dimensional input but the problem is {problem.dim}-dimensional")
    n = points or problem.points
    method = sampling or problem.sampling
    if method not in METHODS:
        raise ValueError(f"sampling must be one of {METHODS}, got {method!r}")
    if resample_every and method == "grid":
        method = "random"  # a grid would redraw the same points
    p0 = next(net.parameters())
    nb = boundary_points or max(4, 4 * math.ceil(math.sqrt(n)))
    torch.manual_seed(seed)
    if any(st.trainer == "alternating" for st in stages):
        from .analytic import check_alternating

        check_alternating(net, loss if isinstance(loss, str) else "a custom loss")
    sampler = _Sampler(problem, n, method, nb, seed, resample_every, p0.dtype, p0.device)
    run = _Run(problem=problem, net=net, stages=stages, loss_fn=make_loss(loss, problem, beta, closed_form),
               loss_name=loss if isinstance(loss, str) else "custom",
               lr=lr, lr_scale=float(lr_scale), sampler=sampler, eval_every=eval_every, compile=bool(compile), callback=callback, checkpoint=checkpoint, checkpoint_every=checkpoint_every)
    if eval_points is None and problem.has_exact:
        eval_points = evaluation_points(problem, dtype=p0.dtype, device=p0.device)
    run.eval_points = eval_points
    run.errors0 = relative_errors(net, problem, eval_points) if problem.has_exact else {}
    if resume is not None:
        run.load(resume)
    return run.execute(progress)


@dataclass
class _Run:
    """The state of one solve: which stage and step, the optimizer, the history."""

    problem: Problem | Target
    net: nn.Module
    stages: tuple[Stage, ...]
    loss_fn: LossFn
    loss_name: str
    lr: float
    lr_scale: float
    sampler: _Sampler
    eval_every: int
    callback: Callable[[StepInfo], bool | None] | None
    checkpoint: Callable[[dict], None] | None
    checkpoint_every: int
    eval_points: Points | None = None
    errors0: dict = field(default_factory=dict)
    history: History = field(default_factory=History)
    reports: list = field(default_factory=list)
    stage: int = 0
    t: int = 0
    opt: torch.optim.Optimizer | None = None
    opt_stage: int = -1
    elapsed: float = 0.0
    check_before_step: bool = True
    compile: bool = False
    compiled: dict = field(default_factory=dict)

    @property
    def step(self) -> int:
        return len(self.history)

    def execute(self, progress: bool) -> Result:
        self.start_wall, self.start_cpu = time.perf_counter() - self.elapsed, time.process_time()
        bar = tqdm(total=schedule_steps(self.stages), initial=self.step, disable=not progress, unit="step",
                   dynamic_ncols=True, mininterval=0.5)
        status = "finished"
        try:
            while self.stage < len(self.stages):
                if self.run_stage(bar):
                    status = "stopped"
                    break
        except DivergenceError as err:
            err.result = self.result("diverged")
            err.result.message = str(err)
            raise
        finally:
            bar.close()
        return self.result(status)

    def run_stage(self, bar) -> bool:
        """Run (the rest of) the current stage; True if the callback asked to stop."""
        if self.stages[self.stage].trainer == "alternating":
            return self.run_alternating(bar)
        p, stage = self.stage, self.stages[self.stage]
        params = [q for q in self.net.parameters() if q.requires_grad]
        base_lr = self.lr_scale * (stage.lr or (1.0 if stage.optimizer == "lbfgs" else self.lr))
        if self.t == 0 and self.opt_stage != p:
            self.opt, self.opt_stage = _optimizer(stage, params, base_lr, self.opt), p
        sync_every = 1 if (params[0].device.type == "cpu" or self.callback) else 64
        self.check_before_step = sync_every == 1  # free when values are synced every step anyway
        t_stage, first = time.perf_counter(), self.step - self.t
        pending: list[tuple[int, Tensor]] = []
        stage_losses = self.history.loss[first:]
        stopped = stop = False
        while self.t < stage.steps:
            s_t, cur_lr = stage.s_at(self.t), base_lr * stage.lr_factor(self.t)
            self.net.set_s(s_t)
            for group in self.opt.param_groups:
                group["lr"] = cur_lr
            self.sampler.step(self.step + len(pending))
            if stage.refit_output_every and self.t and self.t % stage.refit_output_every == 0:
                self._refit_output(stage)
            pending.append((self.step + len(pending), self._step(stage).detach()))
            self.t += 1
            check = stage.until is not None and self.t % stage.until.check_every == 0
            nxt = self.step + len(pending)
            due = any(every and nxt % every == 0 for every in (self.eval_every, self.checkpoint_every))
            if len(pending) >= sync_every or check or due or self.t == stage.steps:
                _flush(pending, self.history, stage_losses, p, s_t, cur_lr, self.start_wall)
                bar.update(len(pending))
                if self.step % 100 < len(pending) or self.t == stage.steps:
                    bar.set_postfix_str(f"stage {p + 1}/{len(self.stages)} s={s_t:.3g} "
                                        f"loss={self.history.loss[-1]:.3e}")
                pending = []
                if self.callback is not None:
                    stop = bool(self.callback(StepInfo(self.step, p, s_t, self.history.loss[-1], cur_lr, self.net)))
            if self.eval_every and self.step % self.eval_every == 0 and self.problem.has_exact:
                self.history.record_errors(self.step, relative_errors(self.net, self.problem, self.eval_points))
            if check and stage.until.fired(stage_losses):
                stopped = True
                break
            if stop:
                return True
            if self.checkpoint and self.checkpoint_every and self.step % self.checkpoint_every == 0 \
                    and self.t < stage.steps:
                self.checkpoint(self.state())
        self.reports.append(StageReport(p, stage.s_at(0), s_t, self.step - first, self.history.loss[first],
                                        self.history.loss[-1], time.perf_counter() - t_stage, stopped))
        self.stage, self.t = p + 1, 0
        if self.checkpoint:
            self.checkpoint(self.state())
        return False

    def run_alternating(self, bar) -> bool:
        """An alternating least-squares stage: one history row per iteration (lr recorded as 0)."""
        from .analytic import alternating_fit

        p, stage = self.stage, self.stages[self.stage]
        s, t_stage, first = stage.s_at(0), time.perf_counter(), self.step
        self.net.set_s(s)
        stop = False

        def record(iteration: int, value: float) -> None:
            nonlocal stop
            _flush([(self.step, torch.tensor(value))], self.history, [], p, s, 0.0, self.start_wall)
            bar.update(1)
            if self.callback is not None:
                stop = stop or bool(self.callback(StepInfo(self.step, p, s, value, 0.0, self.net)))

        losses = alternating_fit(self.net, self.problem, self.sampler.interior, loss=self.loss_name,
                                 iterations=stage.steps - self.t, ridge=stage.ridge, callback=record)
        if stop:
            return True
        self.reports.append(StageReport(p, s, s, self.step - first, losses[0] if losses else math.nan,
                                        min(losses) if losses else math.nan, time.perf_counter() - t_stage,
                                        len(losses) < stage.steps - self.t))
        self.stage, self.t = p + 1, 0
        if self.checkpoint:
            self.checkpoint(self.state())
        return False

    def _refit_output(self, stage: Stage) -> None:
        """Exact output-layer solve; optionally reset that layer's optimizer state."""
        from .lstsq import fit_output_layer

        if self.loss_name not in ("l2", "h1", "ritz"):
            raise ValueError("refit_output_every needs a named loss ('l2', 'h1' or 'ritz')")
        fit_output_layer(self.net, self.problem, self.sampler.interior, loss=self.loss_name,
                         boundary=self.sampler.boundary, ridge=1e-8)
        if stage.reset_output_state:
            for p in (self.net.a, getattr(self.net, "c", None)):
                if p is not None:
                    self.opt.state.pop(p, None)

    def _step(self, stage: Stage) -> Tensor:
        opt, sampler = self.opt, self.sampler

        def closure() -> Tensor:
            opt.zero_grad(set_to_none=True)
            value = self.loss_fn(self.net, self.problem, sampler.interior, sampler.boundary)
            value.backward()
            return value

        if stage.optimizer == "lbfgs":
            return opt.step(closure)
        if self.compile:
            return self._compiled_step(closure)
        value = closure()
        if self.check_before_step and not torch.isfinite(value):
            return value  # leave the parameters as they were; the flush raises DivergenceError
        opt.step()
        return value

    def _compiled_step(self, closure: Callable[[], Tensor]) -> Tensor:
        """closure + optimizer step through torch.compile, cached per stage and optimizer."""
        key = (self.stage, id(self.opt))
        if key not in self.compiled:
            opt = self.opt

            def full_step() -> Tensor:
                value = closure()
                opt.step()
                return value

            self.compiled = {key: torch.compile(full_step)}
        try:
            return self.compiled[key]()
        except Exception as err:  # noqa: BLE001 - any compiler failure: fall back to eager
            import warnings

            warnings.warn(f"torch.compile failed ({str(err).splitlines()[0][:200]}); running eagerly")
            self.compile = False
            value = closure()
            self.opt.step()
            return value

    def state(self) -> dict:
        """Everything needed to continue exactly: a dict of tensors and plain data."""
        return {"net": self.net.state_dict(), "optimizer": self.opt.state_dict() if self.opt else None,
                "opt_stage": self.opt_stage, "stage": self.stage, "t": self.t,
                "history": self.history.to_dict(), "reports": [asdict(r) for r in self.reports],
                "rng": torch.get_rng_state(), "elapsed": time.perf_counter() - self.start_wall,
                "sampler_draws": self.sampler.draws}

    def load(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.stage, self.t, self.opt_stage = state["stage"], state["t"], state["opt_stage"]
        self.history = History.from_dict(state["history"])
        self.reports = [StageReport(**r) for r in state["reports"]]
        torch.set_rng_state(state["rng"])
        self.elapsed = state["elapsed"]
        self.sampler.redraw(state["sampler_draws"])
        if state["optimizer"] is not None and 0 <= self.opt_stage < len(self.stages):
            stage = self.stages[self.opt_stage]
            params = [q for q in self.net.parameters() if q.requires_grad]
            self.opt = _optimizer(replace(stage, keep_optimizer=False), params, self.lr, None)
            self.opt.load_state_dict(state["optimizer"])
        if self.stage < len(self.stages):
            self.net.set_s(self.stages[self.stage].s_at(self.t))

    def result(self, status: str) -> Result:
        errors = relative_errors(self.net, self.problem, self.eval_points) if self.problem.has_exact else {}
        return Result(net=self.net, history=self.history, stages=self.reports, errors=errors,
                      initial_errors=self.errors0, wall_seconds=time.perf_counter() - self.start_wall,
                      cpu_seconds=time.process_time() - self.start_cpu, status=status)


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
           start: float) -> None:
    values = torch.stack([v for _, v in pending]).tolist()
    now = time.perf_counter() - start
    for (step, _), value in zip(pending, values):
        if not math.isfinite(value):
            raise DivergenceError(f"the loss became {value} at step {step + 1} (stage {p + 1}, s = {s:g}, "
                                  f"lr = {lr:g}); lower the learning rate or check the problem data")
        history.append(step + 1, p, s, value, lr, now)
        stage_losses.append(value)
