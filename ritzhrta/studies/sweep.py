"""Independent runs as tasks: in this process, on a local Dask cluster, or on a remote one.

A sweep is a list of :class:`RunSpec` (one solve each). :func:`run_specs` runs them

- in this process when ``workers == 1`` and no scheduler is given (no Dask needed);
- on an embedded ``distributed.LocalCluster`` of ``workers`` single-threaded worker
  processes otherwise;
- on an existing cluster when ``scheduler`` (or the ``DASK_SCHEDULER_ADDRESS``
  environment variable) names its scheduler, e.g. ``tcp://host:8786`` started with
  ``dask scheduler`` / ``dask worker``, or a dask-jobqueue cluster on SLURM/PBS.

With ``out``, each run writes ``out/<key>/summary.json`` atomically (a temporary file, then
``os.replace``), so a worker that dies mid-run leaves no torn folder; a run whose folder has a
valid summary with the same fingerprint is skipped on restart. A task whose worker dies is
retried (``retries``, and Dask's own re-scheduling of tasks lost with a worker). Every run
pins torch to one thread; the results do not depend on where a run ran.
"""
from __future__ import annotations

import contextlib
import logging

import hashlib
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from torch import nn

__all__ = ["RunSpec", "run_specs", "execute", "fingerprint", "load_summary"]

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


@dataclass
class RunSpec:
    """One solve: ``make_net(seed)`` trained on ``problem`` with ``stages``.

    key: unique name of the run (its folder under ``out``); meta: fields copied into the
    result row (configuration label, optimizer, …); tag: anything else that identifies the
    run (e.g. the command line) and enters its :func:`fingerprint`; sample_seed: the seed of
    the training points (default: ``seed``, so each seed draws its own random points).
    """

    key: str
    problem: Any
    stages: tuple
    make_net: Callable[[int], nn.Module]
    seed: int
    loss: Any
    points: int | None = None
    sampling: str | None = None
    solve_kwargs: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    tag: str = ""
    sample_seed: int | None = None


def fingerprint(spec: RunSpec) -> str:
    """A hash of what determines the run (stages, loss, points, seed, meta, tag, options)."""
    text = repr((spec.key, spec.seed, spec.sample_seed, spec.stages, repr(spec.loss), spec.points, spec.sampling,
                 sorted((k, repr(v)) for k, v in spec.solve_kwargs.items()), sorted(spec.meta.items()), spec.tag,
                 getattr(spec.problem, "name", None)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def execute(spec: RunSpec, out: str | None = None, threads: int | None = 1) -> dict:
    """Run one spec; return {"row": …, "history": …}; with ``out``, write its summary.json.

    The row holds ``meta``, seed, status, steps, final_loss, rel_l2, rel_h1, cpu_seconds.
    """
    import torch

    from ritzhrta.training.loop import DivergenceError
    from ritzhrta.training.solver import solve

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        net = spec.make_net(spec.seed)
        cpu = time.process_time()
        try:
            r = solve(spec.problem, net, spec.stages, loss=spec.loss, points=spec.points, sampling=spec.sampling,
                      seed=spec.seed if spec.sample_seed is None else spec.sample_seed, progress=False,
                      **{"estimate": False, **spec.solve_kwargs})  # a study compares errors, not estimates
        except DivergenceError as err:
            r = err.result
    finally:
        torch.set_num_threads(before)
    row = {**spec.meta, "seed": spec.seed, "status": r.status, "steps": len(r.history), "final_loss": r.final_loss,
           "rel_l2": r.errors.get("l2", math.nan), "rel_h1": r.errors.get("h1", math.nan),
           "cpu_seconds": time.process_time() - cpu}
    result = {"key": spec.key, "fingerprint": fingerprint(spec), "row": row, "history": r.history.to_dict()}
    if out is not None:
        _write_atomic(Path(out) / _folder(spec.key) / "summary.json", result)
    return result


def load_summary(path: Path, expected: str | None = None) -> dict | None:
    """A finished run's summary, or None if missing, unreadable or of another fingerprint."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not {"row", "history", "fingerprint"} <= data.keys():
        return None
    if expected is not None and data["fingerprint"] != expected:
        return None
    return data


def run_specs(specs: Sequence[RunSpec], *, workers: int = 1, scheduler: str | None = None,
              out: str | os.PathLike | None = None, retries: int = 2, progress: bool = False,
              log: Callable[[str], None] | None = None, threads: int = 1,
              on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every spec (see the module docstring); results in the order of ``specs``.

    workers: 1 → in this process (unless a scheduler is given); N > 1 → an embedded
    LocalCluster of N single-threaded worker processes. scheduler: address of a running
    Dask scheduler (default: ``$DASK_SCHEDULER_ADDRESS`` if set and workers is not 1).
    threads: torch threads of each run in this process (Dask workers always use one, so
    that a sweep's rows do not depend on where it ran). on_result: called with each result as
    it finishes (in completion order), e.g. to append a row to a table.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("two runs of the sweep share a key: their folders would collide")
    if scheduler is None and workers != 1:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    out_s = None if out is None else str(Path(out).resolve())
    results: dict[str, dict] = {}
    if out_s is not None:
        for spec in specs:
            found = load_summary(Path(out_s) / _folder(spec.key) / "summary.json", fingerprint(spec))
            if found is not None:
                results[spec.key] = found
        if results and log:
            log(f"{len(results)} of {len(specs)} runs already finished in {out_s}: skipped")
    todo = [s for s in specs if s.key not in results]
    bar = _bar(len(specs), len(results), progress)
    try:
        if todo and workers == 1 and scheduler is None:
            for spec in todo:
                results[spec.key] = execute(spec, out_s, threads)
                _report(results[spec.key], bar, log, on_result)
        elif todo:
            for res in _on_dask(todo, workers, scheduler, out_s, retries):
                results[res["key"]] = res
                _report(res, bar, log, on_result)
    finally:
        if bar is not None:
            bar.close()
    return [results[k] for k in keys]


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Start worker processes with SIGINT ignored (a disposition they inherit): a Ctrl-C in the
    terminal then reaches this process alone, which stops the sweep in one line and closes the
    cluster, instead of every worker printing its own traceback (issue 27)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _on_dask(todo: list[RunSpec], workers: int, scheduler: str | None, out: str | None, retries: int):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - dask is a dependency
        raise ImportError("parallel sweeps need dask.distributed: pip install 'dask[distributed]'") from err
    cluster = None
    if scheduler is None:
        with _workers_ignore_ctrl_c():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, silence_logs=logging.ERROR)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = [client.submit(execute, spec, out, 1, key=f"ritzhrta-{i}-{spec.key}", pure=False,
                                 retries=retries) for i, spec in enumerate(todo)]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _folder(key: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in key)
    return f"{safe[:80]}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".summary-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _bar(total: int, done: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="runs", unit="run")


def _report(result: dict, bar, log, on_result=None) -> None:
    if on_result is not None:
        on_result(result)
    if bar is not None:
        bar.update(1)
    if log:
        row = result["row"]
        text = f"{result['key']}: loss {row['final_loss']:.3e} rel L2 {row['rel_l2']:.3e} rel H1 {row['rel_h1']:.3e}"
        (bar.write if bar is not None and log is print else log)(text)
