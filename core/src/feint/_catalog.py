"""Known first-party component names and the distribution that provides each.

Used only for the install hint of :class:`~feint.errors.UnknownComponentError` when a name is
not installed.  Keep in step with ``plugins/`` (``tests/test_catalog.py`` checks it).
"""

CATALOG: dict[tuple[str, str], str] = {
    ("attack", "fgsm"): "feint-attack-fgsm",
    ("attack", "bim"): "feint-attack-bim",
    ("attack", "pgd"): "feint-attack-pgd",
    ("attack", "jsma"): "feint-attack-jsma",
    ("attack", "carlini_l2"): "feint-attack-carlini-l2",
    ("attack", "carlini_linf"): "feint-attack-carlini-linf",
    ("attack", "deepfool"): "feint-attack-deepfool",
    ("attack", "universal_perturbation"): "feint-attack-universal-perturbation",
    ("attack", "newtonfool"): "feint-attack-newtonfool",
    ("attack", "vat"): "feint-attack-vat",
    ("attack", "apgd"): "feint-attack-apgd",
    ("attack", "hopskipjump"): "feint-attack-hopskipjump",
    ("attack", "shadow"): "feint-attack-shadow",
    ("attack", "zoo"): "feint-attack-zoo",
    ("attack", "substitute"): "feint-attack-substitute",
    ("defence", "featsqueeze"): "feint-defence-featsqueeze",
    ("defence", "label_smoothing"): "feint-defence-label-smoothing",
    ("defence", "spatial_smoothing"): "feint-defence-spatial-smoothing",
    ("defence", "gaussian_augmentation"): "feint-defence-gaussian-augmentation",
    ("defence", "jpeg"): "feint-defence-jpeg",
    ("defence", "tvm"): "feint-defence-tvm",
    ("defence", "adversarial_trainer"): "feint-defence-adversarial-trainer",
    ("defence", "pgd_adversarial_trainer"): "feint-defence-pgd-adversarial-trainer",
    ("defence", "fast_adversarial_trainer"): "feint-defence-fast-adversarial-trainer",
    ("defence", "free_adversarial_trainer"): "feint-defence-free-adversarial-trainer",
    ("defence", "defensive_distillation"): "feint-defence-defensive-distillation",
    ("defence", "featsqueeze_detector"): "feint-defence-featsqueeze-detector",
    ("defence", "binary_input_detector"): "feint-defence-binary-input-detector",
    ("framework", "torch"): "feint-framework-torch",
    ("framework", "keras"): "feint-framework-keras",
    ("framework", "tensorflow"): "feint-framework-tensorflow",
    ("metric", "clever_u"): "feint-metric-clever",
    ("metric", "clever_t"): "feint-metric-clever",
    ("metric", "empirical_robustness"): "feint-metric-empirical-robustness",
    ("metric", "loss_sensitivity"): "feint-metric-loss-sensitivity",
}
