"""The stage loop of :func:`ritzhrta.solve`: plain functions over a :class:`Run` (what is
fixed) and a :class:`RunState` (what a checkpoint holds).

For each stage p: ``net.set_s(s)``, a fresh optimizer (unless the stage keeps the
previous one), then steps until the step count or the stage's plateau rule ends it; or,
for an alternating stage, exact least-squares iterations.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from ritzhrta.training import dist
from ritzhrta import trainers
from ritzhrta.geometry.domains import Points
from ritzhrta.forms.norms import relative_errors
from ritzhrta.outputs.results import History, Result, StageReport, StepInfo
from ritzhrta.training.sampling import Sampler
from ritzhrta.schedule import Stage
from ritzhrta.training.steps import CompiledStep, make_optimizer, refit_output

__all__ = ["Run", "RunState", "DivergenceError", "run_stages"]


class DivergenceError(FloatingPointError):
    """The loss became NaN or infinite; ``result`` holds the run up to the last finite step."""

    def __init__(self, message: str, result: Result | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class Run:
    """Everything a solve keeps fixed: problem, network, stages, loss, points, hooks."""

    problem: object
    net: nn.Module
    stages: tuple[Stage, ...]
    loss: Callable
    lr: float
    sampler: Sampler
    eval_points: Points | None = None
    eval_every: int = 0
    callback: Callable[[StepInfo], bool | None] | None = None
    checkpoint: Callable[[dict], None] | None = None
    checkpoint_every: int = 0
    lr_scale: float = 1.0
    closed_form: bool = True
    sync_every: int = 1
    compiler: CompiledStep | None = None
    initial_errors: dict = field(default_factory=dict)
    tol: float = 1e-2  # the estimate's tolerance (solve(tol=...)); a route that adapts reads it

    def errors(self) -> dict:
        return relative_errors(self.net, self.problem, self.eval_points) if self.problem.has_exact else {}


@dataclass
class RunState:
    """Where a solve is: stage, step in it, history, stage reports, optimizer, timers."""

    stage: int = 0
    t: int = 0
    history: History = field(default_factory=History)
    reports: list = field(default_factory=list)
    opt: torch.optim.Optimizer | None = None
    opt_stage: int = -1
    elapsed: float = 0.0
    cpu_elapsed: float = 0.0  # CPU seconds of the processes before a resume
    solver_state: dict | None = None  # a solve stage's trainer state when it stopped inside the stage
    start_wall: float = 0.0
    start_cpu: float = 0.0

    @property
    def step(self) -> int:
        return len(self.history)

    def to_dict(self, run: Run) -> dict:
        """Everything needed to continue exactly: a dict of tensors and plain data."""
        return {"net": run.net.state_dict(), "optimizer": self.opt.state_dict() if self.opt else None,
                "opt_stage": self.opt_stage, "stage": self.stage, "t": self.t,
                "history": self.history.to_dict(), "reports": [asdict(r) for r in self.reports],
                "rng": torch.get_rng_state(), "elapsed": time.perf_counter() - self.start_wall,
                "cpu_elapsed": cpu_seconds() - self.start_cpu, "solver_state": self.solver_state,
                "sampler_draws": run.sampler.draws, "initial_errors": dict(run.initial_errors),
                "loss_beta": getattr(run.loss, "beta", None)}

    @classmethod
    def from_dict(cls, state: dict, run: Run) -> "RunState":
        """Restore the network, RNG, points and optimizer of a checkpoint into ``run``."""
        run.net.load_state_dict(state["net"])
        out = cls(stage=state["stage"], t=state["t"], history=History.from_dict(state["history"]),
                  reports=[StageReport(**r) for r in state["reports"]], opt_stage=state["opt_stage"],
                  elapsed=state["elapsed"], cpu_elapsed=state.get("cpu_elapsed", 0.0),
                  solver_state=state.get("solver_state"))
        torch.set_rng_state(state["rng"])
        run.sampler.redraw(state["sampler_draws"])
        if state["optimizer"] is not None and 0 <= out.opt_stage < len(run.stages):
            out.opt = make_optimizer(run.stages[out.opt_stage].optimizer, _params(run.net), run.lr)
            out.opt.load_state_dict(state["optimizer"])
        if out.stage < len(run.stages):
            run.net.set_s(run.stages[out.stage].s_at(out.t))
        return out


def cpu_seconds() -> float:
    """CPU time of this process plus its finished child processes (torch.compile's compiler
    workers run as children: they count once they have exited)."""
    try:
        import resource

        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime
    except (ImportError, OSError):
        return time.process_time()


def _params(net: nn.Module) -> list[Tensor]:
    return [q for q in net.parameters() if q.requires_grad]


def run_stages(run: Run, state: RunState, bar) -> Result:
    """Run the remaining stages; ``bar`` is a progress bar (``update``, ``set_postfix_str``, ``close``)."""
    state.start_wall, state.start_cpu = time.perf_counter() - state.elapsed, cpu_seconds() - state.cpu_elapsed
    status = "finished"
    try:
        while state.stage < len(run.stages):
            stage_fn = gradient_stage if run.stages[state.stage].trainer == "gradient" else solve_stage
            if stage_fn(run, state, bar):
                status = "stopped"
                if run.checkpoint:  # a stop (callback, Ctrl-C) loses nothing
                    run.checkpoint(state.to_dict(run))
                break
    except DivergenceError as err:
        err.result = result_of(run, state, "diverged")
        err.result.message = str(err)
        raise
    finally:
        bar.close()
    return result_of(run, state, status)


def result_of(run: Run, state: RunState, status: str) -> Result:
    """The run's Result; its seconds end before the final errors are evaluated (not training)."""
    wall, cpu = time.perf_counter() - state.start_wall, cpu_seconds() - state.start_cpu
    return Result(net=run.net, history=state.history, stages=state.reports + _partial_stage(run, state),
                  errors=run.errors(),
                  initial_errors=run.initial_errors, wall_seconds=wall, cpu_seconds=cpu, status=status,
                  compiled_steps=run.compiler.compiled if run.compiler else 0)


def _partial_stage(run: Run, state: RunState) -> list:
    """The report of a stage the run stopped inside (flagged stopped), for the stage table."""
    if state.stage >= len(run.stages) or state.t == 0 or not len(state.history):
        return []
    stage, first = run.stages[state.stage], state.step - state.t
    times = state.history.time
    seconds = times[-1] - (times[first - 1] if first > 0 else 0.0)
    return [StageReport(state.stage, stage.s_at(0), stage.s_at(state.t - 1), state.t, state.history.loss[first],
                        state.history.loss[-1], seconds, True)]


def _end_stage(run: Run, state: RunState, report: StageReport) -> None:
    state.reports.append(report)
    state.stage, state.t = state.stage + 1, 0
    if run.checkpoint:
        run.checkpoint(state.to_dict(run))


def refit_points(run: "Run") -> tuple:
    """(interior, boundary) for an in-loop output refit: the training points when there are at
    least 4 per output unknown, else the domain's Gauss rule refined until there are (a refit of
    1000 unknowns on 1024 points interpolates the points' quadrature error and swung between
    5e-3 and 0.3 in the measurements of issue 11)."""
    interior, boundary = run.sampler.interior, run.sampler.boundary
    from ritzhrta.training.lstsq import output_size

    unknowns = output_size(run.net)
    if interior.x.shape[0] >= 4 * unknowns:
        return interior, boundary
    domain, dim = run.problem.domain, interior.x.shape[1]
    order, cells = domain.default_rule()
    per_cell = len(domain.quadrature(order, 1)) / order ** dim  # 1 for boxes, the cell count for meshes
    cells = max(cells, math.ceil((4 * unknowns / per_cell) ** (1 / dim) / order))
    like = {"dtype": interior.x.dtype, "device": interior.x.device}
    rule = dist.shard(domain.quadrature(order, cells, **like))
    edge = domain.boundary_quadrature(order, cells, **like) if run.loss.uses_boundary(run.problem) else None
    return rule, dist.shard(edge)


def gradient_stage(run: Run, state: RunState, bar) -> bool:
    """Run (the rest of) the current gradient stage; True if the callback asked to stop."""
    p, stage = state.stage, run.stages[state.stage]
    base_lr = run.lr_scale * (stage.lr or (1.0 if stage.optimizer == "lbfgs" else run.lr))
    if state.t == 0 and state.opt_stage != p:
        previous = run.stages[state.opt_stage].optimizer if 0 <= state.opt_stage < len(run.stages) else None
        if not (stage.keep_optimizer and state.opt is not None and previous == stage.optimizer):
            state.opt = make_optimizer(stage.optimizer, _params(run.net), base_lr)
        state.opt_stage = p
    sync_every = 1 if run.callback else run.sync_every
    check_before_step = sync_every == 1  # free when values are synced every step anyway
    t_stage, first = time.perf_counter(), state.step - state.t
    pending: list[tuple[int, Tensor]] = []
    stage_losses = state.history.loss[first:]
    stopped = stop = False
    s_t = stage.s_at(state.t)
    while state.t < stage.steps:
        s_t, cur_lr = stage.s_at(state.t), base_lr * stage.lr_factor(state.t)
        run.net.set_s(s_t)
        for group in state.opt.param_groups:
            group["lr"] = cur_lr
        run.sampler.step(state.step + len(pending))
        if stage.refit_output_every and state.t and state.t % stage.refit_output_every == 0:
            refit_output(run.net, run.loss, run.problem, *refit_points(run), state.opt, stage.reset_output_state)
        pending.append((state.step + len(pending), _step(run, state, stage, check_before_step).detach()))
        state.t += 1
        check = stage.until is not None and state.t % stage.until.check_every == 0
        nxt = state.step + len(pending)
        due = any(every and nxt % every == 0 for every in (run.eval_every, run.checkpoint_every))
        if len(pending) >= sync_every or check or due or state.t == stage.steps:
            _flush(pending, state.history, stage_losses, p, s_t, cur_lr, state.start_wall)
            bar.update(len(pending))
            if state.step % 100 < len(pending) or state.t == stage.steps:
                bar.set_postfix_str(f"stage {p + 1}/{len(run.stages)} s={s_t:.3g} loss={state.history.loss[-1]:.3e}")
            pending = []
            if run.callback is not None:
                stop = bool(run.callback(StepInfo(state.step, p, s_t, state.history.loss[-1], cur_lr, run.net)))
        if run.eval_every and state.step % run.eval_every == 0 and run.problem.has_exact:
            state.history.record_errors(state.step, run.errors())
        if check and stage.until.fired(stage_losses):
            stopped = True
            break
        if stop:
            return True
        if run.checkpoint and run.checkpoint_every and state.step % run.checkpoint_every == 0 \
                and state.t < stage.steps:
            run.checkpoint(state.to_dict(run))
    _end_stage(run, state, StageReport(p, stage.s_at(0), s_t, state.step - first, state.history.loss[first],
                                       state.history.loss[-1], time.perf_counter() - t_stage, stopped))
    return False


def _step(run: Run, state: RunState, stage: Stage, check_before_step: bool) -> Tensor:
    opt, sampler = state.opt, run.sampler

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        if run.closed_form:
            value = run.loss(run.net, run.problem, sampler.interior, sampler.boundary)
        else:
            value = run.loss(run.net, run.problem, sampler.interior, sampler.boundary, closed_form=False)
        value.backward()
        if dist.active():  # a distributed solve: the loss and its gradient are sums over the ranks' shards
            dist.sum_grads(_params(run.net))
            value = dist.all_sum(value)
        return value

    if stage.optimizer == "lbfgs":
        return opt.step(closure)
    if run.compiler is not None:
        return run.compiler((state.stage, id(opt)), closure, opt)
    value = closure()
    if check_before_step and not torch.isfinite(value):
        return value  # leave the parameters as they were; the flush raises DivergenceError
    opt.step()
    return value


def solve_stage(run: Run, state: RunState, bar) -> bool:
    """A stage of exact solves (alternating, galerkin, gauss-newton): one history row per
    iteration (lr recorded as 0). A stop asked for (the callback, Ctrl-C) takes effect after the
    current iteration: the trainer hands back its resumable state (damping, best iterate), which
    the checkpoint keeps, and resume continues the stage exactly. True if it stopped."""
    p, stage = state.stage, run.stages[state.stage]
    s, t_stage, first = stage.s_at(0), time.perf_counter(), state.step - state.t
    run.net.set_s(s)
    stop = False

    def record(iteration: int, value: float) -> None:
        nonlocal stop
        _flush([(state.step, torch.tensor(value))], state.history, [], p, s, 0.0, state.start_wall)
        state.t += 1
        bar.update(1)
        if run.callback is not None:
            stop = stop or bool(run.callback(StepInfo(state.step, p, s, value, 0.0, run.net)))

    left, saved = stage.steps - state.t, {}
    try:
        losses = trainers.get(stage.trainer).run(run, stage, left, record, resume=state.solver_state,
                                                 stop=lambda: stop, saved=saved)
    except DivergenceError:
        raise
    except FloatingPointError as err:  # a non-finite least-squares solve
        raise DivergenceError(f"{err} ({stage.trainer} stage {p + 1}, s = {s:g})") from None
    if saved:  # stopped inside the stage: the checkpoint carries the trainer's state
        state.solver_state = saved
        return True
    state.solver_state = None
    stage_losses = state.history.loss[first:]
    _end_stage(run, state, StageReport(p, s, s, state.step - first, stage_losses[0] if stage_losses else math.nan,
                                       min(stage_losses) if stage_losses else math.nan, time.perf_counter() - t_stage,
                                       len(losses) < left))
    return stop


def stage_ridge(stage: Stage, net: nn.Module, loss=None) -> float:
    """The stage's ridge, or the measured default of its trainer (:mod:`ritzhrta.training.lstsq`)."""
    from ritzhrta.training.lstsq import DEFAULT_RIDGE, RESIDUAL_RIDGE

    if stage.ridge is not None:
        return stage.ridge
    if getattr(loss, "uses_laplacian", False):  # the residual loss: no ridge (lstsq.RESIDUAL_RIDGE)
        return RESIDUAL_RIDGE
    trainer = trainers.get(stage.trainer)
    return trainer.ridge(net) if trainer.ridge is not None else DEFAULT_RIDGE


def calibrated_loss(loss, run: Run, interior, boundary):
    """Losses with a parameter chosen from the features (Nitsche's β) are fixed per stage."""
    return loss.calibrated(run.net, run.problem, interior, boundary) if hasattr(loss, "calibrated") else loss


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
