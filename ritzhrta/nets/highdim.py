"""The network of the high-dimensional route: a holder for the model that the route chooses
(:mod:`ritzhrta.training.highdim`) — an :class:`~ritzhrta.nets.anova.AnovaNet`, a
:class:`~ritzhrta.nets.separated.SeparatedNet` or a full-dimensional
:class:`~ritzhrta.nets.features.RandomFeatureNet` — whose shape is known only after the solve. Its
``state_dict`` carries that shape (``structure``, JSON) with the parameters, so a run folder's
checkpoint loads back into ``HighDimNet(domain, features)`` exactly.
"""
from __future__ import annotations

import json

import torch
from torch import Tensor, nn

from ritzhrta.nets.anova import AnovaNet
from ritzhrta.nets.separated import SeparatedNet

__all__ = ["HighDimNet", "build_structure"]


def build_structure(domain, structure: dict) -> nn.Module:
    """An empty model of the given structure (parameters to be loaded)."""
    kind = structure.get("kind")
    if kind == "anova":
        frame = structure.get("frame")
        return AnovaNet(domain, structure["m1"], [tuple(p) for p in structure["pairs"]], structure["m2"],
                        structure["family"], frame=None if frame is None else torch.tensor(frame),
                        ridge=structure["ridge"]).double()
    if kind == "separated":
        return SeparatedNet(domain, structure["rank"], structure["degree"])
    if kind == "ridge":
        from ritzhrta.nets.features import RandomFeatureNet

        return RandomFeatureNet(domain, structure["width"], structure["family"], structure["scale"]).double()
    raise ValueError(f"unknown high-dimensional model structure {structure!r}")


def structure_of(model: nn.Module) -> dict:
    if hasattr(model, "structure"):
        return model.structure()
    return {"kind": "ridge", "width": model.width, "family": model.family, "scale": model.feature_scale}


class HighDimNet(nn.Module):
    """Holds the model of the high-dimensional route (see the module doc); ``features`` is the
    family asked for (:data:`ritzhrta.training.highdim.FAMILIES`); ``width`` the ridge family's. Until the route has run it is
    u ≡ 0. ``report`` keeps the route's choice and candidates after a solve."""

    def __init__(self, domain, features: str = "auto", width: int | None = None) -> None:
        from ritzhrta.training.highdim import FAMILIES

        super().__init__()
        if features not in FAMILIES:
            raise ValueError(f"features must be one of {FAMILIES} for the high-dimensional route, got {features!r}")
        if width is not None and features != "ridge":
            raise ValueError(f"the high-dimensional route chooses its own sizes: a width is for features 'ridge' "
                             f"(the full-dimensional layer), not {features!r}")
        self._domain, self.features, self._dim, self.width = domain, features, domain.dim, width
        self.model: nn.Module = SeparatedNet(domain, 1, 1)
        with torch.no_grad():
            self.model.A.zero_()
        self.report: dict | None = None

    @property
    def dim(self) -> int:
        return self._dim

    def set_s(self, s: float) -> None:
        if float(s) != 1.0:
            raise ValueError(f"the high-dimensional route has no homotopy parameter: use s = 1, got {float(s):g}")

    def set_model(self, model: nn.Module, report: dict | None = None) -> None:
        self.model, self.report = model, report

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.value_and_grad(x)

    def state_dict(self, *args, **kwargs):
        out = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        out["structure"] = torch.tensor(list(json.dumps(structure_of(self.model)).encode()), dtype=torch.uint8)
        return out

    def load_state_dict(self, state, strict: bool = True, assign: bool = False):
        if "structure" not in state:
            raise ValueError("this checkpoint has no high-dimensional model structure")
        structure = json.loads(bytes(state["structure"].tolist()).decode())
        model = build_structure(self._domain, structure)
        model.load_state_dict({k[len("model."):]: v for k, v in state.items() if k.startswith("model.")},
                              strict=strict)
        self.model = model
        return torch.nn.modules.module._IncompatibleKeys([], [])

    def extra_repr(self) -> str:
        return f"dim={self._dim}, features={self.features}"
