"""The loop that runs the stages of a schedule step by step (used by :func:`ritzhrta.solve`).

For each stage p: ``net.set_s(s)``, a fresh optimizer (unless the stage keeps the
previous one), then steps until the step count or the stage's plateau rule ends it; or,
for an alternating stage, exact least-squares iterations. Checkpoint state in and out.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Union

import torch
from torch import Tensor, nn

from .domains import Points
from .homotopy import Stage
from .norms import relative_errors
from .problem import Problem, Target
from .results import History, Result, StageReport, StepInfo

LossFn = Callable[[nn.Module, Union[Problem, Target], Points, Union[Points, None]], Tensor]


class DivergenceError(FloatingPointError):
    """The loss became NaN or infinite; ``result`` holds the run up to the last finite step."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result


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

    def execute(self, bar) -> Result:
        """Run the remaining stages; ``bar`` is a progress bar (``update``, ``set_postfix_str``, ``close``)."""
        self.start_wall, self.start_cpu = time.perf_counter() - self.elapsed, time.process_time()
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
