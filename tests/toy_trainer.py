"""A toy trainer for tests/test_design.py: it only evaluates the loss (one file + one registry line)."""
import torch

from ritzhrta.trainers import Trainer


def run_stage(run, stage, iterations, record, resume=None, stop=None, saved=None):
    losses = []
    for i in range(iterations):
        with torch.no_grad():
            losses.append(float(run.loss(run.net, run.problem, run.sampler.interior, run.sampler.boundary)))
        record(i + 1, losses[-1])
    return losses


TRAINER = Trainer("toy", run_stage, gauss_rule=False, defaults={"width": 6, "k": 1, "dtype": "float64",
                                                                "schedule": "1:3"})
