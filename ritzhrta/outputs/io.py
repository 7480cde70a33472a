"""Files: VTK/XDMF export through meshio (the only meshio import) and atomic checkpoints."""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import meshio
import numpy as np
import torch
from torch import nn

from ritzhrta.nets.derivatives import evaluate
from ritzhrta.geometry.domains import Domain
from ritzhrta.geometry.meshing import mesh
from ritzhrta.problem import Problem, Target

__all__ = ["write_vtk", "read_vtk", "save_checkpoint", "load_checkpoint", "atomic_write", "DiskFullError"]


def _pad3(a: np.ndarray) -> np.ndarray:
    """Pad the last axis to 3 components (ParaView expects 3D points and vectors)."""
    return np.pad(a, [(0, 0), (0, 3 - a.shape[1])]) if a.shape[1] < 3 else a


def write_vtk(path: str | os.PathLike, net: nn.Module, domain: Domain | None = None,
              problem: Problem | Target | None = None, resolution: int = 100, reference=None,
              indicator: tuple | None = None, extra=None) -> Path:
    """Write the network's solution on a mesh of the domain as ``.vtu`` (or ``.xdmf``).

    Point data: ``u``, ``grad_u`` (vector), and with a known exact solution ``u_exact``
    and ``error`` = |u − u*|. With a ``reference`` (:func:`ritzhrta.fem_reference`):
    ``u_reference`` and ``error`` = |u − u_ref| (then the exact error is ``error_exact``).
    The domain defaults to ``problem.domain``; a :class:`~ritzhrta.MeshDomain` is written
    on its own mesh (its nodes and cells). ``indicator`` = (other network, factor) adds the
    local error estimate ``error_estimate`` = factor·|u − u_other| (:mod:`ritzhrta.training.estimate`:
    the second draw with factor 1/√2, or the residual-route reference with factor 1).
    ``extra(points)`` returns more point fields (the adaptive route's ``patch_level``).
    """
    path = Path(path)
    if path.suffix not in (".vtu", ".xdmf"):
        raise ValueError(f"write_vtk writes .vtu or .xdmf files, got {path.name!r}")
    if domain is None:
        if problem is None:
            raise ValueError("write_vtk needs a domain or a problem")
        domain = problem.domain
    m = mesh(domain, resolution)
    u, grad = evaluate(net, m.points)
    data = {"u": u, "grad_u": _pad3(grad)}
    if problem is not None and problem.has_exact:
        x = torch.as_tensor(m.points, dtype=torch.float64)
        exact = problem.u_exact(x).detach().numpy()
        data.update(u_exact=exact, error=np.abs(u - exact))
    if reference is not None:
        ref = reference.values(m.points)
        if "error" in data:
            data["error_exact"] = data.pop("error")
        data.update(u_reference=ref, error=np.abs(u - ref))
    if indicator is not None and indicator[0] is not None:
        other, factor = indicator
        data["error_estimate"] = factor * np.abs(u - evaluate(other, m.points)[0])
    if extra is not None:  # more point fields: extra(points) -> {name: values}
        data.update(extra(m.points))
    out = meshio.Mesh(_pad3(m.points), [(m.cell_type, m.cells)], point_data=data)
    kwargs = {"data_format": "XML"} if path.suffix == ".xdmf" else {}
    with atomic_write(path) as tmp:
        meshio.write(tmp, out, file_format="xdmf" if path.suffix == ".xdmf" else "vtu", **kwargs)
    return path


def read_vtk(path: str | os.PathLike) -> meshio.Mesh:
    """Read a file written by :func:`write_vtk` (any meshio format)."""
    return meshio.read(path)


class atomic_write:
    """Context manager yielding a temporary path next to ``path``; renamed onto it on success."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __enter__(self) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # the folder is held open: if it is moved or renamed meanwhile, the rename (or the clean-up of the
        # temporary file) still happens in it, so no stray temporary file is left behind
        self.dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix,
                                            dir=self.path.parent)
        except BaseException:
            os.close(self.dir_fd)
            raise
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        name = os.path.basename(self.tmp)
        try:
            if exc_type is None:
                try:
                    os.replace(name, self.path.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
                except BaseException:
                    _unlink(name, self.dir_fd)
                    raise
            else:
                _unlink(name, self.dir_fd)
        finally:
            os.close(self.dir_fd)


def _unlink(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


class DiskFullError(OSError):
    """No space left on the device while writing a file (the previous version is kept)."""

    def __str__(self) -> str:
        return self.args[0]


_DISK_FULL_TEXT = ("No space left", "unexpected pos", "basic_ios", "file write failed")


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save`` the solver state atomically (write a temporary file, then rename); a full
    disk is reported as :class:`DiskFullError` (PyTorch's own text for it names stream internals)."""
    try:
        with atomic_write(path) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as err:
        code = getattr(err, "errno", None)
        kept = "the previous checkpoint is kept" if Path(path).exists() else "no earlier checkpoint exists"
        if code == errno.EFBIG or "File too large" in str(err):
            raise DiskFullError(f"a file-size limit (ulimit -f) stopped writing {Path(path).name} ({kept})") from None
        if code == errno.ENOSPC or any(t in str(err) for t in _DISK_FULL_TEXT):
            raise DiskFullError(f"no space left on device writing {Path(path).name} ({kept})") from None
        raise


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain data only); an
    unreadable file raises a one-line ``ValueError`` (a run folder's reader also checks the content:
    :func:`ritzhrta.outputs.runs.check_state`)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for torn or foreign files
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"cannot read checkpoint {path}: {first}") from err
