"""Memory a run will need, checked before anything is allocated (issue 27).

The model is the measured one of ``benchmarks/memory.py`` (results/memory.md, float64, d = 2):
peak ≈ c · n·m·(d+1)·8 bytes for n points and width m, with c = 2.1 for gradient steps (Adam)
and c = 3.05 for a least-squares solve (Galerkin, residual); Gauss–Newton adds its Gram
matrix p²·8 bytes and the Jacobian rows n·(d+1)·p·8 bytes (p parameters). float32 halves the
per-value size. A run that needs more than :data:`FRACTION` of the memory available is refused
with the number and how to reduce it.
"""
from __future__ import annotations

import os

__all__ = ["estimate_bytes", "available_bytes", "check_memory", "check_run", "run_bytes", "residual_bytes",
           "training_points",
           "limit_source", "FRACTION"]

FRACTION = 0.8
FACTORS = {"gradient": 2.1, "galerkin": 3.05, "alternating": 3.05, "gauss-newton": 3.05}


def estimate_bytes(trainer: str, width: int, points: int, dim: int, dtype_bytes: int = 8, depth: int = 1) -> float:
    """Peak bytes of a run with ``points`` training points and a width-``width`` network (the
    highdim trainer: its own largest dense solve, :func:`ritzhrta.training.highdim.route_bytes`)."""
    if trainer == "highdim":
        from ritzhrta.training.highdim import route_bytes

        return route_bytes(dim, width=width or None)
    values = points * width * (dim + 1) * depth
    total = FACTORS.get(trainer, 3.05) * values * dtype_bytes
    if trainer in ("galerkin", "alternating"):
        total += 3 * width * width * 8  # the solve's m × m factors
    if trainer == "gauss-newton":
        p = width * (dim + 2) + (depth - 1) * width * width
        total += p * p * 8 + points * (dim + 1) * p * 8
    return total


# The calibrated model of a whole run, route by route (benchmarks/memory.py, rows results/memory.csv:
# the OS's peak RSS against this figure, in [1, 1.5] on every row that reaches its size).
OVERHEAD = 280 * 2 ** 20  # what any solve adds first: allocator arenas, BLAS/LAPACK workspaces, point sets
EVAL_FACTOR = 3.2  # the errors and the estimate on the 16384 evaluation points, per (n_e × m) float64 matrix
RESIDUAL_FACTOR = 2.4  # the strong-form rows: values, ∇, Δ and their copies, per point, unit and (d + 5)
SOLVE_FACTOR = 2.3  # a Galerkin / alternating solve's columns and evaluation, per (n·(d+1) + n_e)·m value
GRADIENT_STATE = 4  # parameters, gradients and Adam's two moments
GRADIENT_FACTOR = 4.4  # activations and their input gradients, per (n·(d+1) + n_e)·m value …
DEPTH_FACTOR = 0.3  # … times 1 + 0.3·(depth − 1)
HIGHDIM_EVAL = 4.0  # the high-dimensional route's evaluation, ranking and rounding checks at its budget
AFTER = 0.1  # a route estimated by a reference solve: that solve's peak, plus 10 % of the training's kept


def _residual_points(config, problem, unknowns: int) -> tuple[int, int]:
    """(interior, boundary) points of the residual route's rule for ``unknowns`` output unknowns."""
    from ritzhrta.forms.residual import residual_rule

    if config.quadrature:
        order, cells = config.quadrature
    else:
        order, cells = residual_rule(problem.domain, unknowns)
    interior = len(problem.domain.quadrature(order, 1)) * (1 if problem.domain.meshed else cells ** problem.dim)
    boundary = len(problem.domain.boundary_quadrature(order, cells))
    return interior, boundary


def training_points(config, problem) -> int:
    """How many points the run of ``config`` trains on (what the solver will build): the residual
    route's coarsened rule, the domain's default Gauss rule (or ``quadrature``) for the other solve
    trainers, Sobol points above 3D, ``points`` or the problem's suggestion for gradient training."""
    if config.trainer == "gradient" or config.points is not None or config.sampling is not None:
        return config.points or problem.points
    if config.trainer == "highdim" or problem.dim > 3:
        return max(problem.points, 4 * config.width)
    if config.loss == "residual" and config.trainer == "galerkin":
        return sum(_residual_points(config, problem, config.width + 1))
    return len(problem.domain.quadrature(*(config.quadrature or problem.domain.default_rule())))


def _parameters(dim: int, width: int, depth: int) -> int:
    return width * (dim + 2) + (depth - 1) * width * (width + 1) + 1


def residual_bytes(config, problem, width: int) -> float:
    """The residual route at ``width`` unknowns: OVERHEAD + RESIDUAL_FACTOR·n·m·(d + 5)·8 (n interior +
    boundary points of its rule) + EVAL_FACTOR·16384·m·8."""
    from ritzhrta.forms.norms import EVAL_POINTS

    interior, boundary = _residual_points(config, problem, width + 1)
    n, d = interior + boundary, problem.dim
    return OVERHEAD + RESIDUAL_FACTOR * n * width * (d + 5) * 8 + EVAL_FACTOR * EVAL_POINTS * width * 8


def run_bytes(config, problem) -> float:
    """Peak bytes of the run ``config`` on ``problem`` (a :class:`~ritzhrta.outputs.config.RunConfig` and
    its problem object), calibrated on the OS's measured peaks (benchmarks/memory.py; n points, m
    units, d dimensions, b bytes per value, n_e = 16384 evaluation points):

    - the residual route: :func:`residual_bytes`;
    - a Galerkin / alternating solve: OVERHEAD + SOLVE_FACTOR·(n(d+1) + n_e)·m·b + 3m²·8;
      Gauss–Newton adds 3·n(d+1)p·8 for its Jacobian rows and 2p²·8 for its Gram (p parameters);
    - the gradient route: OVERHEAD + GRADIENT_STATE·P·b (parameters, gradients, Adam's moments) +
      GRADIENT_FACTOR·(n(d+1) + n_e)·m·b·(1 + DEPTH_FACTOR·(depth − 1));
    - a route estimated against a residual-route reference (every σ-network route): the larger of its
      own figure and the reference's, plus AFTER of its own;
    - the high-dimensional and adaptive routes: their size at their budget (an upper bound: they stop
      earlier when their estimate allows)."""
    from ritzhrta.forms.norms import EVAL_POINTS
    from ritzhrta.training.routes import residual_width

    d, m, depth = problem.dim, config.width, config.depth
    b = 4 if config.dtype == "float32" else 8
    if getattr(config, "adaptive", False):
        from ritzhrta.training.adaptive import DEFAULT_MAX_DOFS

        n = config.max_dofs or DEFAULT_MAX_DOFS
        return OVERHEAD + 3.0 * 8 * (4 * n + 2 * n) * n + EVAL_FACTOR * EVAL_POINTS * n * 8
    if config.trainer == "highdim":
        from ritzhrta.training.highdim import COLUMN_BUDGET

        width = m if config.features == "ridge" else COLUMN_BUDGET
        return OVERHEAD + estimate_bytes("highdim", m if config.features == "ridge" else 0, 0, d) + \
            HIGHDIM_EVAL * EVAL_POINTS * width * 8
    if config.trainer == "galerkin" and config.loss == "residual":
        return residual_bytes(config, problem, m)
    if config.trainer == "gradient":
        n = config.points or problem.points
        own = OVERHEAD + GRADIENT_STATE * _parameters(d, m, depth) * b + \
            GRADIENT_FACTOR * (n * (d + 1) + EVAL_POINTS) * m * b * (1 + DEPTH_FACTOR * (depth - 1))
    else:
        n = len(problem.domain.quadrature(*(config.quadrature or problem.domain.default_rule())))
        own = OVERHEAD + SOLVE_FACTOR * (n * (d + 1) + EVAL_POINTS) * m * b + 3 * m * m * 8
        if config.trainer == "gauss-newton":
            p = _parameters(d, m, depth)
            own += 3 * n * (d + 1) * p * 8 + 2 * p * p * 8
    from ritzhrta.problem import Problem

    if not isinstance(problem, Problem) or problem.interface is not None or config.features != "sigma":
        return own
    reference = residual_bytes(config, problem, residual_width(d))
    return max(own, reference) + AFTER * own


def available_bytes() -> float | None:
    """The memory this process may still take: the smallest of MemAvailable (/proc/meminfo, else the
    physical memory), the cgroup's limit less its use (v2 memory.max − memory.current, v1
    memory.limit_in_bytes − memory.usage_in_bytes) and the address-space limit (``ulimit -v``) less the
    process's virtual size; None where none is known."""
    found = [v for v in (_meminfo(), _cgroup_room(), _address_room()) if v is not None]
    return min(found) if found else None


def limit_source() -> str:
    """Which limit :func:`available_bytes` took (for the refusal's wording)."""
    values = {"available memory": _meminfo(), "the cgroup's memory limit": _cgroup_room(),
              "the address-space limit (ulimit -v)": _address_room()}
    found = {k: v for k, v in values.items() if v is not None}
    return min(found, key=found.get) if found else "available memory"


def _read_number(path: str) -> float | None:
    try:
        text = open(path).read().strip()
    except OSError:
        return None
    return None if text in ("", "max") else float(text)


def _meminfo() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> float | None:
    for limit, used in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        top, now = _read_number(limit), _read_number(used)
        if top is not None and now is not None and top < 2 ** 60:  # v1 writes ~2^63 for "no limit"
            return max(top - now, 0.0)
    return None


def _address_room() -> float | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    size = 0.0
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    size = float(line.split()[1]) * 1024
    except OSError:
        pass
    return max(float(soft) - size, 0.0)


def check_run(config, problem, available: float | None = None) -> float:
    """:func:`run_bytes` of the run, or a one-line ``ValueError`` with the figure when it exceeds
    FRACTION of what :func:`available_bytes` allows (and which limit that is)."""
    need = run_bytes(config, problem)
    have = available_bytes() if available is None else available
    if have is not None and need > FRACTION * have:  # the whole run's model
        gib = 2 ** 30
        where = "the given limit" if available is not None else limit_source()
        raise ValueError(f"this run needs about {need / gib:.1f} GiB (benchmarks/results/memory.md) but "
                         f"{where} leaves {have / gib:.1f} GiB: lower --width (or --max-dofs), --points or --quadrature")
    return need


def check_memory(trainer: str, width: int, points: int, dim: int, dtype_bytes: int = 8, depth: int = 1,
                 available: float | None = None) -> float:
    """The estimate in bytes, or a one-line ``ValueError`` when it exceeds FRACTION of what is available."""
    need = estimate_bytes(trainer, width, points, dim, dtype_bytes, depth)
    have = available_bytes() if available is None else available
    if have is not None and need > FRACTION * have:
        gib = 2 ** 30
        if trainer == "highdim":
            raise ValueError(f"the high-dimensional route needs about {need / gib:.1f} GiB in {dim} dimensions (its "
                             f"largest dense solve) but {have / gib:.1f} GiB are available")
        raise ValueError(f"this run needs about {need / gib:.1f} GiB (width {width} × {points} points × {dim + 1} "
                         f"values, {trainer}; model in benchmarks/results/memory.md) but {have / gib:.1f} GiB are "
                         "available: lower --width, --points or --quadrature")
    return need
