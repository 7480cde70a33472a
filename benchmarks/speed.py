"""Training-step throughput: closed-form vs autograd (double backward) vs torch.compile.

For the H¹ loss and the Ritz energy of a two-layer σ_s^3 network (the paper's PDE
setting), over widths × points × dtypes, on the CPU (and on CUDA when present). Each
configuration: warm-up, then steps until `--seconds` of process time have passed;
reported as steps per CPU-second and per wall-second, with the speed-up of the closed
form over autograd. Configurations over `--max-elements` (width × points) are skipped
(memory). (The output-refit study moved to benchmarks/refits.py.)

    python benchmarks/speed.py                 # widths 100,1000,4000 × points 1e3,1e4,1e5
    python benchmarks/speed.py --quick         # seconds; used by the tests
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems  # noqa: E402
from _common import output_dir  # noqa: E402
from ritzhrta import TwoLayerNet  # noqa: E402
from ritzhrta.forms.losses import ritz_energy, sobolev_loss  # noqa: E402


def step_fn(net, pb, pts, loss, closed_form):
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        value = (sobolev_loss(net, pb, pts, 1, closed_form=closed_form) if loss == "h1"
                 else ritz_energy(net, pb, pts, closed_form=closed_form))
        value.backward()
        opt.step()
        return value
    return step


def measure(step, seconds: float, sync) -> tuple[float, float, int]:
    for _ in range(3):
        step()
    sync()
    n, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
    while time.process_time() - cpu0 < seconds or n < 3:
        step()
        n += 1
    sync()
    return n / (time.process_time() - cpu0), n / (time.perf_counter() - wall0), n


def throughput(args, device) -> list[str]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    pb = problems.get("screened-poisson2d")
    lines = [f"### {device.type.upper()} ({torch.get_num_threads()} threads), {args.seconds:g} CPU-s per cell", "",
             "| loss | width | points | dtype | closed form steps/CPU-s | autograd steps/CPU-s | closed/autograd "
             "| compiled steps/CPU-s | closed form steps/wall-s |", "|---|---|---|---|---|---|---|---|---|"]
    for loss in ("h1", "ritz"):
        for width in map(int, args.widths.split(",")):
            for n in map(int, args.points.split(",")):
                if width * n > args.max_elements:
                    continue
                for dtype in (torch.float32, torch.float64):
                    pts = pb.domain.interior(n, "sobol", dtype=dtype, device=device)
                    res = {}
                    for mode in ("closed", "autograd", "compiled"):
                        torch.manual_seed(0)
                        net = TwoLayerNet(2, width, k=3, s=0.5).to(device=device, dtype=dtype)
                        step = step_fn(net, pb, pts, loss, mode != "autograd")
                        if mode == "compiled":
                            if not args.compile:
                                res[mode] = None
                                continue
                            try:
                                step = torch.compile(step)
                            except Exception:  # noqa: BLE001 - unsupported here
                                res[mode] = None
                                continue
                        try:
                            res[mode] = measure(step, args.seconds, sync)
                        except Exception as err:  # noqa: BLE001 - report, do not crash the table
                            print(f"{mode} failed: {str(err).splitlines()[0]}", flush=True)
                            res[mode] = None
                    c, a, k = res["closed"], res["autograd"], res["compiled"]
                    lines.append(f"| {loss} | {width} | {n} | {str(dtype)[6:]} | {c[0]:.1f} | {a[0]:.1f} | "
                                 f"{c[0] / a[0]:.2f} | {f'{k[0]:.1f}' if k else '–'} | {c[1]:.1f} |")
                    print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--widths", default="100,1000,4000")
    parser.add_argument("--points", default="1000,10000,100000")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--max-elements", type=float, default=4e7)
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile (slow to compile)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="default: results/ (--quick: a temporary folder)")
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.widths, args.points, args.seconds = "20", "64", 0.05
    lines = throughput(args, torch.device("cpu"))
    if torch.cuda.is_available():
        lines += [""] + throughput(args, torch.device("cuda"))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / ("speed_quick.md" if args.quick else "speed.md")).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
