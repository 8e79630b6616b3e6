"""Checks of a configuration that JSON schema cannot express, run before any job starts.

:func:`check_config` raises :class:`ConfigError` naming the config key and what is wrong: references
between sections (models, labels), physical limits (solubility, box length against cutoffs), and
settings that would only fail hours later (no frames left after equilibration, an empty fit window).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping

import numpy as np

from .box import Composition, composition_for_molarity, composition_molarity, cubic_box_length_A
from .datasets import SplitError, time_block_split
from .reference_data import experimental

MOLARITY_TOLERANCE = 0.10  # a stated molarity may differ this much (relative) from its composition's


class ConfigError(ValueError):
    """A configuration that cannot run as written."""


def _quietly(function):
    """The density correlation's range warnings belong to the run's log, not to validation."""

    @functools.wraps(function)
    def wrapper(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args)

    return wrapper


@_quietly
def system_composition(system: Mapping) -> Composition:
    if "n_koh" in system:
        return Composition(system["n_koh"], system["n_water"])
    return composition_for_molarity(system["molarity_mol_per_L"], system["n_oxygen"])


@_quietly
def system_box_length_A(system: Mapping) -> float:
    return system.get("box_length_A") or cubic_box_length_A(system_composition(system))


@_quietly
def system_molarity(system: Mapping) -> float:
    return system.get("molarity_mol_per_L") or composition_molarity(system_composition(system))


def check_config(config: Mapping) -> None:
    """Raise :class:`ConfigError` for the first problem found."""
    for check in (_labels, _systems, _cp2k, _split, _models, _md, _analysis):
        check(config)


def _fail(key: str, problem: str) -> None:
    raise ConfigError(f"config key '{key}': {problem}")


def _systems_of(config: Mapping) -> dict[str, tuple[str, Mapping]]:
    systems = {c["label"]: (f"concentrations[{i}]", c) for i, c in enumerate(config["concentrations"])}
    pretrain = config["foundation_model"].get("pretrain")
    if pretrain:
        systems[pretrain["system"]["label"]] = ("foundation_model.pretrain.system", pretrain["system"])
    return systems


def _labels(config: Mapping) -> None:
    seen: dict[str, str] = {}
    entries = [(f"concentrations[{i}].label", c["label"]) for i, c in enumerate(config["concentrations"])]
    pretrain = config["foundation_model"].get("pretrain")
    if pretrain:
        entries.append(("foundation_model.pretrain.system.label", pretrain["system"]["label"]))
    for key, label in entries:
        if label in seen:
            _fail(key, f"label {label!r} is already used by {seen[label]}")
        if label == "AIMD":
            _fail(key, "label 'AIMD' is reserved for the reference analysis")
        seen[label] = key


def _systems(config: Mapping) -> None:
    solubility = experimental()["solubility_25C_mol_per_L"]["value"]
    for label, (key, system) in _systems_of(config).items():
        if "n_koh" in system and "molarity_mol_per_L" in system:
            actual = _quietly(composition_molarity)(Composition(system["n_koh"], system["n_water"]))
            stated = system["molarity_mol_per_L"]
            if abs(actual - stated) > MOLARITY_TOLERANCE * stated:
                _fail(
                    f"{key}.molarity_mol_per_L",
                    f"{system['n_koh']} KOH + {system['n_water']} H2O is {actual:.2f} mol/L at the correlated "
                    f"density, not the stated {stated} mol/L",
                )
        molarity = system_molarity(system)
        if molarity > solubility and not config.get("allow_supersaturated", False):
            _fail(
                key,
                f"{label} at {molarity:.2f} mol/L is above KOH's solubility ({solubility} mol/L at 25 °C); "
                "set allow_supersaturated: true to model a supersaturated solution on purpose",
            )


def _cp2k(config: Mapping) -> None:
    cp2k = config["cp2k"]
    if cp2k["method"] == "dft" and "dft" not in cp2k:
        _fail("cp2k.dft", "method 'dft' needs a cp2k.dft section (functional, basis sets, potentials, cutoffs)")
    aimd = cp2k["aimd"]
    if aimd["equilibration_steps"] >= aimd["steps"]:
        _fail(
            "cp2k.aimd.equilibration_steps",
            f"{aimd['equilibration_steps']} equilibration steps leave no frames of a {aimd['steps']}-step AIMD",
        )
    if aimd["print_every"] > aimd["steps"] - aimd["equilibration_steps"]:
        _fail("cp2k.aimd.print_every", "prints fewer than one frame after equilibration")


def _split(config: Mapping) -> None:
    split = config["split"]
    total = split["train"] + split["valid"] + split["test"]
    if not np.isclose(total, 1.0):
        _fail("split", f"train + valid + test must add up to 1, got {total:g}")
    aimd = config["cp2k"]["aimd"]
    n_frames = (aimd["steps"] - aimd["equilibration_steps"]) // aimd["print_every"] + 1
    try:  # the same split the workflow will make, on placeholders for the AIMD frames
        time_block_split(range(n_frames), split, gap_frames=split["gap_frames"])
    except SplitError as error:
        _fail("split", f"{n_frames} AIMD frames after equilibration: {error}")


def _models(config: Mapping) -> None:
    labels = {c["label"] for c in config["concentrations"]}
    for i, model in enumerate(config["training"]["multi_concentration_models"]):
        key = f"training.multi_concentration_models[{i}]"
        if model["name"] == "foundation" or model["name"].startswith("ft_"):
            _fail(f"{key}.name", f"{model['name']!r} collides with the names 'foundation' and 'ft_<label>'")
        unknown = sorted(set(model["concentrations"]) - labels)
        if unknown:
            _fail(f"{key}.concentrations", f"unknown concentration labels {unknown}; labels are {sorted(labels)}")


def model_names(config: Mapping) -> list[str]:
    return [
        "foundation",
        *(f"ft_{c['label']}" for c in config["concentrations"]),
        *(m["name"] for m in config["training"]["multi_concentration_models"]),
    ]


def _md(config: Mapping) -> None:
    md, models = config["md"], model_names(config)
    labels = {c["label"] for c in config["concentrations"]}
    for i, model in enumerate(md["models"]):
        if model not in models:
            _fail(f"md.models[{i}]", f"unknown model {model!r}; models are {models}")
    for i, label in enumerate(md["concentrations"]):
        if label not in labels:
            _fail(f"md.concentrations[{i}]", f"unknown concentration label {label!r}; labels are {sorted(labels)}")
    needed = {"bussi": "time_constant_fs", "langevin": "friction_per_fs"}[md["thermostat"]["type"]]
    if needed not in md["thermostat"]:
        _fail(f"md.thermostat.{needed}", f"the {md['thermostat']['type']} thermostat needs {needed}")
    md_ps = md["steps"] * md["timestep_fs"] / 1000.0
    window = config["analysis"]["diffusion_window_ps"]
    if window[1] + config["analysis"]["equilibration_ps"] > md_ps + 1e-9:
        _fail(
            "analysis.diffusion_window_ps",
            f"the fit window ends at {window[1]} ps after {config['analysis']['equilibration_ps']} ps of "
            f"equilibration, beyond the {md_ps:g} ps MD",
        )


def _analysis(config: Mapping) -> None:
    analysis = config["analysis"]
    for key in ("diffusion_window_ps", "aimd_diffusion_window_ps"):
        start, end = analysis[key]
        if start >= end:
            _fail(f"analysis.{key}", f"window start {start} ps is not before its end {end} ps")
    aimd = config["cp2k"]["aimd"]
    aimd_ps = (aimd["steps"] - aimd["equilibration_steps"]) * aimd["timestep_fs"] / 1000.0
    if analysis["aimd_diffusion_window_ps"][1] > aimd_ps + 1e-9:
        _fail("analysis.aimd_diffusion_window_ps", f"ends after the {aimd_ps:g} ps of AIMD kept after equilibration")
    labels = {c["label"] for c in config["concentrations"]}
    unknown = sorted(set(analysis.get("viscosity_mPa_s", {})) - labels)
    if unknown:
        _fail("analysis.viscosity_mPa_s", f"unknown concentration labels {unknown}")
    cutoffs = {
        "analysis.donor_acceptor_cutoff_A": analysis["donor_acceptor_cutoff_A"],
        "analysis.k_o_cutoff_A": analysis["k_o_cutoff_A"],
    }
    for label, (key, system) in _systems_of(config).items():
        half_box = system_box_length_A(system) / 2
        for cutoff_key, cutoff in cutoffs.items():
            if cutoff >= half_box:
                _fail(
                    cutoff_key,
                    f"{cutoff} Å is not below half the {label} box ({half_box:.2f} Å, {key}); "
                    "the minimum-image convention needs cutoff < L/2",
                )
