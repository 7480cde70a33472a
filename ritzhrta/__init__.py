"""ritzhrta: Deep Ritz and Sobolev training of wide shallow networks with HRTA."""
from .activations import check_k, check_s, sigma, sigma_and_derivative, sigma_derivative
from .derivatives import autograd_value_and_grad, value_and_grad
from .domains import Box, Disk, Domain, Interval, Points
from .polygon import LShape, Polygon
from .homotopy import (PRESETS, Plateau, Ramp, Stage, baseline, format_schedule, homotopy, ladder, parse,
                       relaxation, schedule_steps)
from .losses import ritz_energy, sobolev_loss
from .networks import MLP, HomotopyNet, TwoLayerNet
from .norms import evaluation_points, relative_errors
from .problem import Problem, Target
from .results import History, Result, StageReport, StepInfo
from .solve import DivergenceError, make_loss, solve
from .lstsq import fit_output_layer
from .analytic import alternating_fit, data_aware_init, hidden_increment
from .ntk import gram_closed_form, gram_finite, gram_monte_carlo, lambda_min, lambda_min_vs_s
from .compare import Comparison, compare, parse_schedules, tune_lr

__version__ = "0.1.0"

__all__ = [
    "sigma", "sigma_derivative", "sigma_and_derivative", "check_s", "check_k",
    "value_and_grad", "autograd_value_and_grad",
    "Domain", "Points", "Box", "Interval", "Disk", "Polygon", "LShape",
    "Stage", "Plateau", "Ramp", "ladder", "baseline", "homotopy", "relaxation", "PRESETS", "parse",
    "format_schedule", "schedule_steps",
    "sobolev_loss", "ritz_energy",
    "HomotopyNet", "TwoLayerNet", "MLP",
    "relative_errors", "evaluation_points",
    "Problem", "Target",
    "History", "Result", "StageReport", "StepInfo",
    "solve", "make_loss", "DivergenceError",
    "fit_output_layer", "alternating_fit", "data_aware_init", "hidden_increment",
    "gram_closed_form", "gram_monte_carlo", "gram_finite", "lambda_min", "lambda_min_vs_s",
    "compare", "Comparison", "parse_schedules", "tune_lr",
    "__version__",
]
