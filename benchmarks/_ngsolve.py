"""NGSolve H¹-conforming elements of order 1-6 on uniform meshes: the high-order FEM anchor of
benchmarks/features.py (run with a Python that has NGSolve: `pip install ngsolve`, an optional
extra kept out of the package's own environment because it ships its own MKL).

Prints CSV rows: problem,method,order,maxh,dofs,cpu_s,rel_h1 (cpu_s: process time of
mesh + assembly + sparse Cholesky solve, one thread; the error by an order-(2p+4) rule).
"""
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
from netgen.geom2d import unit_square, SplineGeometry  # noqa: E402
from ngsolve import (H1, BilinearForm, GridFunction, LinearForm, Mesh, SetNumThreads, cos, dx, exp,  # noqa: E402
                     grad, sin, x, y, Integrate, CoefficientFunction, InnerProduct, atan2, sqrt, IfPos)

SetNumThreads(1)
PI = math.pi


def problems():
    u = sin(PI * x) * sin(PI * y)
    yield "poisson2d-dirichlet", lambda: unit_square, u, CoefficientFunction((PI * cos(PI * x) * sin(PI * y), PI * sin(PI * x) * cos(PI * y))), 2 * PI ** 2 * u

    def disk():
        geo = SplineGeometry()
        geo.AddCircle((0, 0), 1, bc="circle")
        return geo
    ud = sin(PI * x) * cos(PI * y / 2)
    gd = CoefficientFunction((PI * cos(PI * x) * cos(PI * y / 2), -PI / 2 * sin(PI * x) * sin(PI * y / 2)))
    yield "disk-dirichlet", disk, ud, gd, 1.25 * PI ** 2 * ud

    def lshape(graded):
        def make():
            geo = SplineGeometry()
            pts = [geo.AppendPoint(px, py, hpref=1 if (px, py) == (0, 0) and graded else 0)
                   for px, py in [(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)]]
            for i in range(6):
                geo.Append(["line", pts[i], pts[(i + 1) % 6]], bc="edge")
            return geo
        return make
    r = sqrt(x * x + y * y)
    th0 = atan2(y, x)
    th = IfPos(th0 + PI / 2, th0, th0 + 2 * PI)  # θ in [0, 3π/2] on the L-shape (θ = 0 on y = 0, x > 0)
    sing = r ** (2 / 3) * sin(2 * th / 3)
    fac = (2 / 3) * r ** (-1 / 3)  # ∇(r^(2/3) sin(2θ/3)) = (2/3) r^(−1/3) (−sin(θ/3), cos(θ/3))
    gsing = CoefficientFunction((-fac * sin(th / 3), fac * cos(th / 3)))
    smooth = sin(PI * x) * sin(PI * y)
    gsmooth = CoefficientFunction((PI * cos(PI * x) * sin(PI * y), PI * sin(PI * x) * cos(PI * y)))
    for graded in (False, True):
        yield ("lshape-mixed" + ("@graded" if graded else ""), lshape(graded), sing + smooth, gsing + gsmooth,
               2 * PI ** 2 * smooth)


def run(name, geometry, u, gu, f, order, maxh):
    t0 = time.process_time()
    mesh = Mesh(geometry().GenerateMesh(maxh=maxh))
    if name.endswith("@graded"):
        mesh.RefineHP(levels=12, factor=0.2)  # geometric grading toward the re-entrant corner
    if name == "disk-dirichlet":
        mesh.Curve(order)
    fes = H1(mesh, order=order, dirichlet=".*")
    uh, v = fes.TnT()
    a = BilinearForm(grad(uh) * grad(v) * dx).Assemble()
    l = LinearForm(f * v * dx(bonus_intorder=order)).Assemble()
    sol = GridFunction(fes)
    sol.Set(u, definedon=mesh.Boundaries(".*"))
    res = l.vec.CreateVector()
    res.data = l.vec - a.mat * sol.vec
    sol.vec.data += a.mat.Inverse(fes.FreeDofs(), inverse="sparsecholesky") * res
    cpu = time.process_time() - t0
    e2 = Integrate((sol - u) ** 2 + InnerProduct(grad(sol) - gu, grad(sol) - gu), mesh, order=2 * order + 4)
    n2 = Integrate(u ** 2 + InnerProduct(gu, gu), mesh, order=2 * order + 4)
    return fes.ndof, cpu, math.sqrt(e2 / n2)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print("problem,method,order,maxh,dofs,cpu_s,rel_h1")
    for name, geo, u, gu, f in problems():
        for order in ((2, 4) if quick else (1, 2, 3, 4, 5, 6)):
            for maxh in ((0.25,) if quick else (0.5, 0.25, 0.125, 0.0625, 0.03125)):
                if order == 1 and maxh > 0.2 and not quick:
                    continue
                if name.endswith("@graded") and maxh < 0.1:
                    continue  # grading replaces refinement: base meshes 0.5-0.125, 12 grading levels
                dofs, cpu, err = run(name, geo, u, gu, f, order, maxh)
                method = "ngsolve-graded-p" if name.endswith("@graded") else "ngsolve-p"
                print(f"{name.split('@')[0]},{method}{order},{order},{maxh},{dofs},{cpu:.4f},{err:.3e}", flush=True)
