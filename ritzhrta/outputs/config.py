"""Run options declared once (issue 22): every setting of a run is one field of :class:`RunConfig`
with its type (the annotation), default, help text, choices and check (:func:`option`). The
command-line options (:func:`add_options`), their reading (:func:`given_options`), the
validation of a config file and config.json all follow from those fields: a new run option is
its field (and, if it changes a run, the line that uses it).
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ritzhrta.forms.losses import DEFAULT_BETA, DIRICHLET, H1Loss, L2Loss, RitzLoss
from ritzhrta.forms.residual import ResidualLoss
from ritzhrta.geometry.domains import METHODS
from ritzhrta.nets.networks import INITS, MLP, TwoLayerNet, place_kinks
from ritzhrta.schedule import LR_DECAYS, OPTIMIZERS, PRESETS, Plateau, Stage, format_schedule, parse_schedule

__all__ = ["RunConfig", "RESUMABLE", "option", "add_options", "given_options", "run_options", "LOSSES", "FEATURES",
           "GRADIENT_ONLY", "ROUTE_OPTIONS"]

# The one place where a loss is named: config files and the CLI say "h1", the library gets an object.
LOSSES = {"h1": lambda config: H1Loss(), "l2": lambda config: L2Loss(),
          "ritz": lambda config: RitzLoss(beta=config.beta if config.beta is not None else
                                          (None if config.dirichlet == "nitsche" else DEFAULT_BETA),
                                          dirichlet=config.dirichlet),
          "residual": lambda config: ResidualLoss()}
FEATURES = ("sigma", "tanh", "sin", "gauss", "auto", "anova1", "anova2", "separated", "ridge")  # sigma: σ_s^k (the
# paper's); tanh/sin/gauss: ritzhrta.nets.features; the rest: the high-dimensional route (ritzhrta.training.highdim)
HIGHDIM_FEATURES = FEATURES[4:]
# The settings a resume may change (docs/RELIABILITY.md): how the rest of the run goes on, not what the
# checkpoint is. Every other field makes a checkpoint foreign (problem, network shape, seed, dtype, loss, …).
RESUMABLE = ("schedule", "lr", "lr_decay", "plateau", "checkpoint_every", "eval_every", "tol", "reference",
             "reference_tol", "resolution", "on_nan", "max_retries", "compile", "threads")


def _trainer_names() -> tuple[str, ...]:
    from ritzhrta import trainers

    return ("gradient",) + trainers.names() + ("adam",)


def option(default: Any = None, help: str = "", *, choices: tuple | Callable[[], tuple] | None = None,
           check: Callable[[Any], str | None] | None = None, flag: str | None = "", metavar: str | None = None,
           parse: Callable[[str, str], Any] | None = None, route: bool = False, gradient: bool = False,
           invert: bool = False, default_factory: Callable[[], Any] | None = None):
    """A field of :class:`RunConfig` with what the CLI and the checks need.

    choices: the allowed values (or a function giving them); check(value) -> an error text or None;
    flag: the command-line flag ("" = --name-with-dashes, None = not on the command line);
    parse(text, flag): the value from the flag's text; route: left to :mod:`ritzhrta.training.routes`
    when not given; gradient: an option of gradient training only; invert: a flag that sets a
    bool field to False (--standard-scaling sets ntk_scaling False)."""
    meta = {"help": help, "choices": choices, "check": check, "flag": flag, "metavar": metavar, "parse": parse,
            "route": route, "gradient": gradient, "invert": invert}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def _at_least(low: int) -> Callable[[Any], str | None]:
    return lambda v: None if v >= low else f"must be a positive integer{' >= 2' if low == 2 else ''}, got {v}"


def _non_negative(v) -> str | None:
    return None if v >= 0 else f"must be >= 0, got {v}"


def _positive(v) -> str | None:
    return None if math.isfinite(v) and v > 0 else f"must be a finite number > 0, got {v}"


def _pair(kinds: tuple, form: str) -> Callable[[str, str], list]:
    """Parse "A:B" (e.g. --plateau 500:0.05, --quadrature 6:12) into [kinds[0](A), kinds[1](B)]."""

    def parse(text: str, flag: str) -> list:
        try:
            first, second = text.split(":")
            return [kinds[0](first), kinds[1](second)]
        except ValueError:
            raise ValueError(f"{flag} expects {form}, got {text!r}") from None

    return parse


def _two(name: str, form: str) -> Callable[[Any], str | None]:
    return lambda v: None if len(v) == 2 else f"must be {form}, got {v!r}"


@dataclass(frozen=True)
class RunConfig:
    """The settings of a run; ``schedule`` is the text form (see :func:`ritzhrta.parse_schedule`).
    Each field is an :func:`option`: its annotation is its type, its metadata the CLI's help."""

    problem: str = option(flag=None)
    schedule: str = option(flag=None, default_factory=lambda: format_schedule(PRESETS["homotopy"](6000)))
    loss: str = option("h1", "default: the route's (residual on Gaussian features for 2D/3D PDE problems, ritz "
                       "with --k/--dirichlet/--init on σ features, h1 for gradient training)", choices=tuple(LOSSES),
                       route=True)
    width: int = option(1000, "hidden width (default: the route's: 400 in 2D / 800 in 3D residual route, 500 --loss "
                        "ritz, 80 gauss-newton, 200 alternating, 500 adam on PDE problems, 1000 adam on functions)",
                        check=_at_least(1), route=True)
    k: int = option(3, "power of σ_s^k (default: 5 galerkin, 1 alternating, 3 others)", check=_at_least(1),
                    route=True)
    depth: int = option(1, "hidden layers (1: two-layer net)", check=_at_least(1))
    ntk_scaling: bool = option(True, "γ = 0 instead of the NTK scaling γ = 1", flag="--standard-scaling",
                               invert=True)
    lr: float = option(1e-3, "learning rate", check=_positive, gradient=True)
    optimizer: str = option("adam", "optimizer of gradient training", choices=OPTIMIZERS, gradient=True)
    lr_decay: str = option("none", "learning-rate decay per stage", choices=LR_DECAYS, gradient=True)
    keep_optimizer: bool = option(False, "keep optimizer state across stages", gradient=True)
    plateau: list | None = option(None, "end a stage early on a loss plateau, e.g. 500:0.05", metavar="WINDOW:TOL",
                                  parse=_pair((int, float), "WINDOW:TOL such as 500:0.05"),
                                  check=_two("plateau", "[window, rel_tol]"), gradient=True)
    points: int | None = option(None, "interior training points (default: the problem's)", check=_at_least(1))
    sampling: str | None = option(None, "point sampling (default: the problem's)", choices=METHODS)
    resample_every: int = option(0, "draw new random points every N steps", metavar="N", check=_non_negative,
                                 gradient=True)
    beta: float | None = option(None, "Dirichlet weight of the Ritz energy (default: 100 for the penalty, automatic "
                                "for Nitsche)", check=_positive)
    dirichlet: str = option("penalty", "Dirichlet data in the Ritz energy: penalty (O(1/β) error), nitsche "
                            "(consistent) or exact (u = ĥ + φ·N, ĥ from boundary values only; boxes, disks, polygons, "
                            "2D meshes). Default with --loss ritz: exact where the domain prefers it (boxes, disks, 2D "
                            "meshes), else nitsche; penalty with the other trainers. The residual loss has boundary "
                            "rows of its own", choices=DIRICHLET, route=True)
    quadrature: list | None = option(None, "train on the domain's Gauss rule ORDER:CELLS (default for the "
                                     "galerkin/gauss-newton trainers)", metavar="ORDER:CELLS",
                                     parse=_pair((int, int), "ORDER:CELLS such as 6:12"),
                                     check=_two("quadrature", "[order, cells]"))
    seed: int = option(0, "random seed of the network and the points")
    device: str = option("cpu", "cpu, cuda, cuda:N")
    dtype: str = option("float32", "default: the route's (float64 for least-squares trainers)",
                        choices=("float32", "float64"), route=True)
    checkpoint_every: int = option(1000, "write a checkpoint every N steps", metavar="N", check=_non_negative)
    resolution: int = option(150, "mesh resolution of plots and VTK", check=_at_least(2))
    on_nan: str = option("stop", "on a NaN loss: stop (exit 3), or roll back to the last checkpoint with half the lr",
                         choices=("stop", "rollback"))
    max_retries: int = option(3, "rollbacks before giving up", check=_non_negative)
    trainer: str = option("gradient", "default: galerkin for PDE problems (one float64 least-squares solve), adam "
                          "for function approximation; adam = gradient (the paper's HRTA with Adam); gauss-newton; "
                          "alternating: exact least-squares solves of both layers (two-layer, k = 1)",
                          choices=_trainer_names, route=True)
    ridge: float | None = option(None, "relative ridge of the least-squares solves (default: measured per trainer: 0 "
                                 "with an SVD cut-off for the residual loss, 1e-13 (k >= 4) or 1e-11 for "
                                 "galerkin/gauss-newton, 1e-6 for alternating; ritzhrta.training.lstsq)",
                                 check=lambda v: None if math.isfinite(v) and v >= 0 else
                                 f"must be a finite number > 0, got {v}")
    compile: bool = option(False, "torch.compile each step (pays off for long runs)", gradient=True)
    eval_every: int = option(0, "record the relative errors every N steps (history.csv, loss.png)", metavar="N",
                             check=_non_negative)
    threads: int | None = option(None, "torch threads (default: 1 for small problems or a busy machine, else all "
                                 "cores; measured)",
                                 check=lambda v: None if v >= 1 else
                                 f"must be a positive integer (or absent: chosen by measurement), got {v}")
    init: str = option("normal", "hidden layer: normal (all N(0, 1), the paper) or kinks (b_j = −w_j·c_j, c_j uniform "
                       "in the domain). Default: kinks on mesh domains with the galerkin trainer, else normal",
                       choices=INITS, route=True)
    mesh: str | None = option(None, "solve a mesh problem (plate-hole, part3d) on another mesh file with the same "
                              "boundary tags", metavar="FILE", parse=lambda text, flag: str(Path(text).resolve()))
    reference: str | None = option(None, "also compute a P2 finite-element reference (scikit-fem) and report the "
                                   "errors against it", choices=("fem",))
    reference_tol: float | None = option(None, "estimated relative energy error at which the FEM reference stops "
                                         "refining (default 1e-3)", metavar="TOL",
                                         check=lambda v: None if 0 < v < 1 else f"must be a number in (0, 1), got {v}")
    out: str | None = option(None, flag=None)  # a config file's run folder (the CLI's --out is the command's)
    features: str = option("sigma", "hidden layer: sigma (σ_s^k, the paper's) or an analytic random layer (tanh, sin, "
                           "gauss; galerkin trainer), or a family of the high-dimensional route on a box (auto, anova1, "
                           "anova2, separated, ridge; highdim trainer). Default: gauss for 2D/3D PDE problems on boxes, "
                           "disks and polygons (the residual route), auto above 3D, else sigma", choices=FEATURES,
                           route=True)
    feature_scale: float | None = option(None, "spread of analytic features' weights in units of 1/L (L: the "
                                         "domain's size; default 2)", metavar="SCALE", check=_positive, route=True)
    tol: float = option(1e-2, "warn when the estimated relative H¹ error exceeds TOL; with --adaptive, refine until "
                        "it is below TOL", check=_positive)
    adaptive: bool = option(False, "refine local features until the estimate is below --tol (2D/3D PDE problems; "
                            "experimental: ritzhrta.training.adaptive)")
    max_dofs: int | None = option(None, "the adaptive route's budget of unknowns (default 4000)", check=_at_least(1))

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value, (kinds, optional) = getattr(self, f.name), _kinds(hints[f.name])
            if value is None and optional:
                continue
            ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
            if not ok:
                raise ValueError(f"config key {f.name!r} must be {' or '.join(k.__name__ for k in kinds)}, "
                                 f"got {value!r}")
            choices = f.metadata.get("choices")
            choices = choices() if callable(choices) else choices
            if choices is not None and value not in choices:
                raise ValueError(f"{f.name} must be one of {', '.join(map(str, choices))}, got {value!r}")
            check = f.metadata.get("check")
            problem = check(value) if check is not None else None
            if problem:
                raise ValueError(f"{f.name} {problem}")
        # checks across fields
        if self.quadrature is not None and self.resample_every:
            raise ValueError("a quadrature rule is fixed: resample_every needs sampled points")
        if self.feature_scale is not None and self.features not in ("tanh", "sin", "gauss"):
            raise ValueError(f"feature_scale is for analytic features (tanh, sin, gauss), not {self.features}")
        if self.reference_tol is not None and self.reference is None:
            raise ValueError("reference_tol is set but reference is not (use reference 'fem')")
        if self.max_dofs is not None and not self.adaptive:
            raise ValueError("max_dofs is the adaptive route's budget: it needs adaptive")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build from parsed JSON; unknown keys are an error, never ignored."""
        if not isinstance(data, dict):
            raise ValueError(f"a run config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def stages(self) -> tuple[Stage, ...]:
        until = Plateau(*self.plateau) if self.plateau else None
        return parse_schedule(self.schedule, optimizer=self.optimizer, lr_decay=self.lr_decay, until=until,
                     keep_optimizer=self.keep_optimizer, trainer=self.trainer, ridge=self.ridge)

    def build_loss(self):
        """The loss object named by ``loss`` (with ``beta`` for the Ritz energy)."""
        return LOSSES[self.loss](self)

    def build_problem(self):
        """The registered problem (on ``mesh`` when given: problems read from a mesh file)."""
        import problems  # the registry of named problems: a run folder names its problem (the only
        # library module besides the CLI that imports it; tests/test_design.py)

        return problems.get(self.problem, mesh=self.mesh)

    def build_model(self, problem, s0: float) -> torch.nn.Module:
        """The network of :meth:`build_net`, fed (x, |ψ(x)|) when the problem has an ``interface``
        ψ, and wrapped as u = ĥ + φN when ``dirichlet`` is "exact"."""
        interface = getattr(problem, "interface", None)
        if self.trainer == "highdim" or self.features in HIGHDIM_FEATURES:
            return self._build_highdim(problem, interface)
        if self.features != "sigma":
            return self._build_features(problem, interface)
        net = self.build_net(problem.dim + (interface is not None), s0)
        if interface is not None:  # a kink where the coefficient jumps: u = N(x, |ψ(x)|)
            from ritzhrta.nets.interface import InterfaceNet

            net = InterfaceNet(net, interface)
        if self.init == "kinks":
            if self.depth != 1:
                raise ValueError("init 'kinks' places the kinks of a two-layer net (depth 1)")
            place_kinks(net, problem.domain, seed=self.seed)
        if self.dirichlet == "exact":
            from ritzhrta.nets.exact_bc import ExactDirichlet

            net = ExactDirichlet(net, problem)
        return net

    def _build_highdim(self, problem, interface) -> torch.nn.Module:
        """A :class:`~ritzhrta.nets.highdim.HighDimNet` (the route chooses its model)."""
        from ritzhrta.nets.highdim import HighDimNet

        features = "auto" if self.features not in HIGHDIM_FEATURES else self.features
        if self.trainer != "highdim":
            raise ValueError(f"features {features!r} belong to the high-dimensional route: use the highdim trainer "
                             f"(leave --trainer out), not {self.trainer!r}")
        if type(problem.domain).__name__ != "Box" or interface is not None or problem.dim < 2:
            raise ValueError(f"the high-dimensional route (features {features!r}) needs a box of dimension >= 2 "
                             f"without an interface, got {problem.dim}D {type(problem.domain).__name__}")
        if self.loss != "residual":
            raise ValueError(f"the high-dimensional route solves the strong-form residual: loss 'residual', "
                             f"not {self.loss!r}")
        if self.device != "cpu":
            raise ValueError("the high-dimensional route runs on the CPU (float64)")
        torch.manual_seed(self.seed)
        return HighDimNet(problem.domain, features, self.width if features == "ridge" else None)

    def _build_features(self, problem, interface) -> torch.nn.Module:
        """A :class:`~ritzhrta.nets.features.RandomFeatureNet` on the problem's domain."""
        from ritzhrta.nets.features import DEFAULT_SCALE, RandomFeatureNet

        for bad, why in ((self.depth != 1, "depth 1"), (interface is not None, "a problem without an interface"),
                         (self.init != "normal", "init 'normal'"), (self.dirichlet == "exact", "no exact lift")):
            if bad:
                raise ValueError(f"features {self.features!r} need {why} (they are one random layer on the domain)")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        torch.manual_seed(self.seed)
        net = RandomFeatureNet(problem.domain, self.width, self.features, self.feature_scale or DEFAULT_SCALE)
        return net.to(device=torch.device(self.device), dtype=getattr(torch, self.dtype))

    def build_net(self, dim: int, s0: float) -> torch.nn.Module:
        torch.manual_seed(self.seed)
        if not isinstance(self.depth, int) or self.depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {self.depth!r}")
        if self.depth == 1:
            net = TwoLayerNet(dim, self.width, k=self.k, s=s0, ntk_scaling=self.ntk_scaling)
        else:
            net = MLP(dim, [self.width] * self.depth, k=self.k, s=s0, ntk_scaling=self.ntk_scaling)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        return net.to(device=torch.device(self.device), dtype=getattr(torch, self.dtype))


def _kinds(hint) -> tuple[tuple[type, ...], bool]:
    """(accepted types, None allowed) of a field's annotation; a float field accepts an int."""
    args = typing.get_args(hint)
    optional = type(None) in args
    base = [a for a in args if a is not type(None)] if args else [hint]
    kinds = tuple(typing.get_origin(b) or b for b in base)
    if float in kinds:
        kinds = tuple(int if k is float else k for k in kinds) + (float,)
    return kinds, optional


def run_options() -> list[dataclasses.Field]:
    """The fields of :class:`RunConfig` that are command-line options."""
    return [f for f in dataclasses.fields(RunConfig) if f.metadata.get("flag") is not None]


def _flag(f: dataclasses.Field) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


GRADIENT_ONLY = tuple(f.name for f in dataclasses.fields(RunConfig) if f.metadata.get("gradient"))
ROUTE_OPTIONS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.metadata.get("route"))


def add_options(parser) -> None:
    """One command-line option per :func:`run_options` field: its flag, type, choices and help
    (with the default); every option's default is None, so a run knows what was given."""
    hints = typing.get_type_hints(RunConfig)
    defaults = RunConfig(problem="")
    for f in run_options():
        meta, kwargs = f.metadata, {"default": None, "dest": f.name}
        default = getattr(defaults, f.name)
        shown = "" if meta["route"] or default is None or isinstance(default, bool) else f" (default {default})"
        kwargs["help"] = meta["help"] + shown
        kinds, _ = _kinds(hints[f.name])
        if bool in kinds:
            kwargs.update(action="store_const", const=not meta["invert"])
        else:
            if meta["parse"] is None and list not in kinds:
                kwargs["type"] = float if float in kinds else int if int in kinds else str
            choices = meta["choices"]
            if choices is not None:
                kwargs["choices"] = choices() if callable(choices) else choices
            if meta["metavar"]:
                kwargs["metavar"] = meta["metavar"]
        parser.add_argument(_flag(f), **kwargs)


def given_options(args) -> dict[str, Any]:
    """The options given on the command line, parsed into field values (a flag's text through its
    field's ``parse``); a value that does not parse raises ``ValueError`` naming the flag."""
    given = {}
    for f in run_options():
        value = getattr(args, f.name, None)
        if value is None:
            continue
        parse = f.metadata["parse"]
        given[f.name] = parse(value, _flag(f)) if parse is not None else value
    return given
