"""A problem of your own, with the public API only: −Δu = 4 on the unit disk, u = 0 on the circle.

``solve(problem)`` runs the default route (least squares on Gaussian features for the strong form,
with a second draw for the error estimate): the source and the boundary data are all it uses. The
exact solution u* = 1 − |x|² is given only to check the errors; without it the run still reports its
estimate. The same file from the command line: ``ritzhrta solve examples/custom_problem.py:make_problem``.
"""
import torch

from ritzhrta import Disk, Problem, solve


def make_problem() -> Problem:
    return Problem(
        domain=Disk(center=(0.0, 0.0), radius=1.0),
        source=4.0,
        dirichlet=lambda x: torch.zeros_like(x[:, 0]),
        exact=lambda x: 1 - (x ** 2).sum(1),  # optional: for checking
        exact_grad=lambda x: -2 * x,
        name="disk-poisson",
    )


problem = make_problem()
result = solve(problem, progress=False)
print(f"disk: rel L2 {result.errors['l2']:.3e}, rel H1 {result.errors['h1']:.3e}, "
      f"estimated rel H1 {result.estimate['h1']:.3e} (no exact solution used)")

if __name__ == "__main__":
    from ritzhrta.outputs.io import write_vtk
    from ritzhrta.outputs.plotting import plot_solution

    print("wrote", plot_solution(result.net, problem, "runs/examples/custom_problem.png"))
    print("wrote", write_vtk("runs/examples/custom_problem.vtu", result.net, problem=problem))
