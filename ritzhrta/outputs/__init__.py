"""Outputs: run folders (runs), results and histories, VTK and checkpoints (io), figures
(plotting), the run-folder lock.
"""
from __future__ import annotations

from ritzhrta._lazy import lazy_exports

_EXPORTS = {
    # io
    "write_vtk": "io", "read_vtk": "io", "save_checkpoint": "io", "load_checkpoint": "io",
    "atomic_write": "io", "DiskFullError": "io",
    # lock
    "RunFolderBusy": "lock", "run_folder_lock": "lock", "LOCK_FILE": "lock",
    # plotting
    "plot_history": "plotting", "plot_solution": "plotting", "plot_histories": "plotting",
    "plot_bands": "plotting", "plot_curve": "plotting",
    # results
    "History": "results", "StageReport": "results", "Result": "results", "StepInfo": "results",
    # runs
    "RunConfig": "runs", "run": "runs", "resume_run": "runs", "load_run": "runs", "write_outputs": "runs",
    "config_file": "runs", "FILES": "runs", "LOSSES": "runs",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
