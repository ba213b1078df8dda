"""The same attacks in ART, torchattacks and foolbox, on the same model, batch and parameters.

Each entry of :data:`ATTACKS` maps a row key of :mod:`benchmarks.cases` to a builder
``(ctx, case) -> run(x, y) -> x_adv`` that translates feint's parameter names into the peer's.
Where a peer has no exact counterpart of a parameter, the builder says which choice it made
(``NOTES``); the README repeats those notes under the table.  Peers are optional: they are
imported only here, only when ``--peers`` is given, and never by feint.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import math
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["ATTACKS", "DISTRIBUTIONS", "METRICS", "NOTES", "PeerContext", "available"]

#: library -> the distributions that make it up (their versions go into the results)
DISTRIBUTIONS = {
    "art": ("adversarial-robustness-toolbox",),
    "torchattacks": ("torchattacks",),
    "foolbox": ("foolbox", "eagerpy"),
}
_MODULES = {"art": "art", "torchattacks": "torchattacks", "foolbox": "foolbox"}


def available() -> dict[str, str]:
    """``{library: version}`` of the importable peers, or ``{library: "unavailable: <reason>"}``."""
    out = {}
    for lib, mod in _MODULES.items():
        try:
            importlib.import_module(mod)
            out[lib] = importlib.metadata.version(DISTRIBUTIONS[lib][0])
        except Exception as exc:  # noqa: BLE001 - any import failure means "not available"
            out[lib] = f"unavailable: {type(exc).__name__}: {exc}"
    return out


@dataclass
class PeerContext:
    """The model every peer attacks (a :class:`~benchmarks.floor.CountingModule`) and cached wrappers."""

    model: torch.nn.Module
    input_shape: tuple = (1, 8, 8)
    nb_classes: int = 10
    clip_values: tuple = (0.0, 1.0)
    cache: dict = field(default_factory=dict)

    def art(self):
        if "art" not in self.cache:
            from art.estimators.classification import PyTorchClassifier

            self.cache["art"] = PyTorchClassifier(
                model=self.model, loss=torch.nn.CrossEntropyLoss(), input_shape=self.input_shape,
                nb_classes=self.nb_classes, clip_values=self.clip_values, device_type="cpu")
        return self.cache["art"]

    def art_probabilities(self):
        """ART classifier over ``softmax(model(x))``: ART's VAT insists on probability outputs."""
        if "art_probabilities" not in self.cache:
            from art.estimators.classification import PyTorchClassifier

            self.cache["art_probabilities"] = PyTorchClassifier(
                model=torch.nn.Sequential(self.model, torch.nn.Softmax(dim=1)), loss=torch.nn.CrossEntropyLoss(),
                input_shape=self.input_shape, nb_classes=self.nb_classes, clip_values=self.clip_values,
                device_type="cpu")
        return self.cache["art_probabilities"]

    def art_float32(self):
        """ART classifier whose model casts its input to float32 (ART's HopSkipJump sends float64 under NumPy 2)."""
        if "art_float32" not in self.cache:
            from art.estimators.classification import PyTorchClassifier

            self.cache["art_float32"] = PyTorchClassifier(
                model=torch.nn.Sequential(_Float32(), self.model), loss=torch.nn.CrossEntropyLoss(),
                input_shape=self.input_shape, nb_classes=self.nb_classes, clip_values=self.clip_values,
                device_type="cpu")
        return self.cache["art_float32"]

    def foolbox(self):
        if "foolbox" not in self.cache:
            import foolbox

            self.cache["foolbox"] = foolbox.PyTorchModel(self.model, bounds=self.clip_values, device="cpu")
        return self.cache["foolbox"]


class _Float32(torch.nn.Module):
    def forward(self, x):
        return x.float()


# -- ART ------------------------------------------------------------------------------------------
def _art(name: str, estimator: str = "art", **kw):
    def build(ctx: PeerContext, case):
        from art.attacks import evasion

        cls = getattr(evasion, name)
        params = {k: (v(case.params, case) if callable(v) else v) for k, v in kw.items()}
        extra = {"verbose": False} if "verbose" in cls.__init__.__code__.co_varnames else {}
        attack = cls(getattr(ctx, estimator)(), **params, **extra)

        def run(x, y):
            return np.asarray(attack.generate(x=x, y=y), dtype=np.float32)
        return run
    return build


def _art_attacker_params(p, case):
    """The universal perturbation's inner DeepFool in ART's names (``overshoot`` is ART's ``epsilon``)."""
    names = {"overshoot": "epsilon"}
    return {**{names.get(k, k): v for k, v in p["attacker_params"].items()}, "verbose": False}


def _p(name, scale=1.0):
    return lambda p, case: p[name] * scale if scale != 1.0 else p[name]


def _n(p, case):
    return case.n


def _art_shadow(ctx: PeerContext, case):
    from art.attacks.evasion import ShadowAttack

    p = case.params
    attack = ShadowAttack(ctx.art(), sigma=p["sigma"], nb_steps=p["nb_steps"], learning_rate=p["learning_rate"],
                          lambda_tv=p["lambda_tv"], lambda_c=p["lambda_c"], lambda_s=p["lambda_s"],
                          batch_size=p["sample_size"], targeted=case.targeted, verbose=False)

    def run(x, y):
        # one image per call; ART turns the attack targeted whenever y is given, so the untargeted
        # attack gets y=None (ART then uses the predictions, which are the labels on this batch)
        return np.concatenate([attack.generate(x=x[i:i + 1], y=np.eye(10, dtype=np.float32)[y[i:i + 1]]
                                               if case.targeted else None)
                               for i in range(len(x))]).astype(np.float32)
    return run


# -- torchattacks ---------------------------------------------------------------------------------
def _ta(name: str, targeted: bool = False, probabilities: bool = False, **kw):
    def build(ctx: PeerContext, case):
        import torchattacks

        params = {k: (v(case.params, case) if callable(v) else v) for k, v in kw.items()}
        model = torch.nn.Sequential(ctx.model, torch.nn.Softmax(dim=1)) if probabilities else ctx.model
        attack = getattr(torchattacks, name)(model, **params)
        if targeted:
            attack.set_mode_targeted_by_label(quiet=True)

        def run(x, y):
            out = attack(torch.from_numpy(x), torch.from_numpy(y))
            return out.detach().cpu().numpy().astype(np.float32)
        return run
    return build


# -- foolbox --------------------------------------------------------------------------------------
def _fb(name: str, eps: str | None = None, targeted: bool = False, **kw):
    def build(ctx: PeerContext, case):
        import foolbox

        params = {k: (v(case.params, case) if callable(v) else v) for k, v in kw.items()}
        attack = getattr(foolbox.attacks, name)(**params)
        fmodel = ctx.foolbox()
        epsilon = None if eps is None else float(case.params[eps])

        def run(x, y):
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            crit = foolbox.criteria.TargetedMisclassification(yt) if targeted else foolbox.criteria.Misclassification(yt)
            _, clipped, _ = attack(fmodel, xt, crit, epsilons=epsilon)
            return clipped.detach().cpu().numpy().astype(np.float32)
        return run
    return build


def _ta_apgd_norm(p, case):
    return "Linf" if p["norm"] == math.inf else "L2"


ATTACKS: dict[str, dict] = {
    "art": {
        "fgsm": _art("FastGradientMethod", norm=_p("norm"), eps=_p("eps"), batch_size=_n),
        "bim": _art("BasicIterativeMethod", eps=_p("eps"), eps_step=_p("eps_step"), max_iter=_p("max_iter"),
                    batch_size=_n),
        "pgd": _art("ProjectedGradientDescent", norm=_p("norm"), eps=_p("eps"), eps_step=_p("eps_step"),
                    max_iter=_p("max_iter"), num_random_init=_p("num_random_init"), batch_size=_n),
        "pgd-l2": _art("ProjectedGradientDescent", norm=_p("norm"), eps=_p("eps"), eps_step=_p("eps_step"),
                       max_iter=_p("max_iter"), num_random_init=_p("num_random_init"), batch_size=_n),
        "apgd": _art("AutoProjectedGradientDescent", norm=_p("norm"), eps=_p("eps"), eps_step=_p("eps", 2.0),
                     max_iter=_p("max_iter"), nb_random_init=_p("nb_random_init"), loss_type="cross_entropy",
                     batch_size=_n),
        "deepfool": _art("DeepFool", max_iter=_p("max_iter"), epsilon=_p("overshoot"), nb_grads=_p("nb_grads"),
                         batch_size=_n),
        "newtonfool": _art("NewtonFool", estimator="art_probabilities", max_iter=_p("max_iter"), eta=_p("eta"),
                           batch_size=_n),
        "carlini_l2": _art("CarliniL2Method", confidence=_p("confidence"), targeted=False,
                           learning_rate=_p("learning_rate"), binary_search_steps=_p("binary_search_steps"),
                           max_iter=_p("max_iter"), initial_const=_p("initial_const"), batch_size=_n),
        "carlini_linf": _art("CarliniLInfMethod", confidence=_p("confidence"), targeted=False,
                             learning_rate=_p("learning_rate"), max_iter=_p("max_iter"),
                             initial_const=_p("initial_const"), largest_const=_p("largest_const"), batch_size=_n),
        "jsma": _art("SaliencyMapMethod", estimator="art_probabilities", theta=_p("theta"), gamma=_p("gamma"),
                     batch_size=_n),
        "vat": _art("VirtualAdversarialMethod", estimator="art_probabilities", eps=_p("eps"), max_iter=_p("max_iter"),
                    finite_diff=1e-6, batch_size=_n),
        "universal_perturbation": _art("UniversalPerturbation", attacker=_p("attacker"),
                                       attacker_params=_art_attacker_params,
                                       delta=_p("delta"), max_iter=_p("max_iter"), eps=_p("eps"), norm=_p("norm"),
                                       batch_size=_n),
        "hopskipjump": _art("HopSkipJump", estimator="art_float32", norm=_p("norm"), max_iter=_p("max_iter"),
                            max_eval=_p("max_eval"), init_eval=_p("init_eval"), init_size=_p("init_size"), batch_size=_n),
        "zoo": _art("ZooAttack", confidence=_p("confidence"), learning_rate=_p("learning_rate"),
                    max_iter=_p("max_iter"), binary_search_steps=_p("binary_search_steps"),
                    initial_const=_p("initial_const"), abort_early=True, use_resize=False,
                    use_importance=_p("use_importance"), nb_parallel=_p("nb_parallel"), batch_size=1,
                    variable_h=_p("variable_h")),
        "shadow": _art_shadow,
    },
    "torchattacks": {
        "fgsm": _ta("FGSM", eps=_p("eps")),
        "bim": _ta("BIM", eps=_p("eps"), alpha=_p("eps_step"), steps=_p("max_iter")),
        "pgd": _ta("PGD", eps=_p("eps"), alpha=_p("eps_step"), steps=_p("max_iter"), random_start=True),
        "pgd-l2": _ta("PGDL2", eps=_p("eps"), alpha=_p("eps_step"), steps=_p("max_iter"), random_start=True),
        "apgd": _ta("APGD", norm=_ta_apgd_norm, eps=_p("eps"), steps=_p("max_iter"),
                    n_restarts=_p("nb_random_init"), seed=0, loss="ce", rho=0.75),
        "deepfool": _ta("DeepFool", steps=_p("max_iter"), overshoot=_p("overshoot")),
        # no binary search over c in torchattacks' CW: its default c=1, for the same number of Adam steps
        "carlini_l2": _ta("CW", c=1.0, kappa=_p("confidence"),
                          steps=lambda p, c: p["binary_search_steps"] * p["max_iter"], lr=_p("learning_rate")),
        "jsma": _ta("JSMA", targeted=True, probabilities=True, theta=_p("theta"), gamma=_p("gamma")),
    },
    "foolbox": {
        "fgsm": _fb("LinfFastGradientAttack", eps="eps"),
        "bim": _fb("LinfBasicIterativeAttack", eps="eps", abs_stepsize=_p("eps_step"), steps=_p("max_iter")),
        "pgd": _fb("LinfPGD", eps="eps", abs_stepsize=_p("eps_step"), steps=_p("max_iter"), random_start=True),
        "pgd-l2": _fb("L2PGD", eps="eps", abs_stepsize=_p("eps_step"), steps=_p("max_iter"), random_start=True),
        "deepfool": _fb("L2DeepFoolAttack", steps=_p("max_iter"), candidates=_p("nb_grads"),
                        overshoot=_p("overshoot")),
        "newtonfool": _fb("NewtonFoolAttack", steps=_p("max_iter"), stepsize=_p("eta")),
        "carlini_l2": _fb("L2CarliniWagnerAttack", binary_search_steps=_p("binary_search_steps"),
                          steps=_p("max_iter"), stepsize=_p("learning_rate"), confidence=_p("confidence"),
                          initial_const=_p("initial_const"), abort_early=True),
        "vat": _fb("VirtualAdversarialAttack", eps="eps", steps=_p("max_iter"), xi=_p("xi")),
        "hopskipjump": _fb("HopSkipJumpAttack", steps=_p("max_iter"), initial_gradient_eval_steps=_p("init_eval"),
                           max_gradient_eval_steps=_p("max_eval"), gamma=1.0, constraint="l2"),
    },
}

#: what differs from feint's parameters where a peer has no exact counterpart (shown in the README)
NOTES = {
    ("torchattacks", "carlini_l2"): "torchattacks' CW has no binary search over c: its default c=1, "
                                    "binary_search_steps x max_iter Adam steps",
    ("art", "newtonfool"): "ART's NewtonFool reads its classifier's outputs as probabilities (NewtonFool's F): "
                           "its classifier gets a softmax layer",
    ("art", "jsma"): "ART and torchattacks differentiate their model's outputs: they get the softmax layer, so every "
                     "library's saliency map is over the probabilities (feint's default, logits=False)",
    ("torchattacks", "jsma"): "given the model with a softmax layer, as ART and feint's default",
    ("art", "apgd"): "ART's eps_step is APGD's first step size: set to 2*eps as in Croce & Hein",
    ("art", "vat"): "ART's VAT: coordinate-wise finite differences (finite_diff=1e-6), no xi; its classifier "
                    "gets a softmax layer (ART refuses logits here)",
    ("art", "shadow"): "ART's ShadowAttack takes one image per call and turns targeted whenever y is given: "
                       "called with y=None",
    ("art", "hopskipjump"): "ART's HopSkipJump sends float64 inputs under NumPy 2 and crashes on a float32 model "
                            "('Input type (double) and bias type (float) should be the same'): run with a float32 "
                            "cast in front of the model",
    ("art", "zoo"): "ART's ZooAttack fails with batch_size > 1 (IndexError in its coordinate update): "
                    "its default batch_size=1",
}


# -- metrics (ART only: torchattacks and foolbox have none) ---------------------------------------
def _art_clever(ctx: PeerContext, case):
    from art.metrics import clever_u

    p = case.params

    def run(x, y):
        return np.array([clever_u(ctx.art(), x[i], nb_batches=p["n_batch"], batch_size=p["n_sample"],
                                  radius=p["r"], norm=p["norm"], verbose=False) for i in range(len(x))])
    return run


def _art_empirical(ctx: PeerContext, case):
    from art.metrics import empirical_robustness

    p = case.params["attack_params"]
    params = {"norm": p["norm"], "minimal": p["minimal"], "eps_step": p["eps_step"], "eps": p["eps_max"]}
    return lambda x, y: empirical_robustness(ctx.art(), x, "fgsm", params)


def _art_loss_sensitivity(ctx: PeerContext, case):
    from art.metrics import loss_sensitivity

    return lambda x, y: loss_sensitivity(ctx.art(), x, np.eye(10, dtype=np.float32)[y])


#: library -> metric row key -> builder (ART's loss_sensitivity is the loss-gradient variant only)
METRICS: dict[str, dict] = {
    "art": {"clever_u": _art_clever, "empirical_robustness": _art_empirical,
            "loss_sensitivity": _art_loss_sensitivity},
}
