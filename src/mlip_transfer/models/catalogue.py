"""The study's models (training and evaluation stages): the foundation model, one fine-tune per concentration,
the multi-concentration fine-tunes, each once per training seed (a committee), the learning curves' subsets of
training frames, and what each fine-tune and evaluation depends on. Names: :mod:`mlip_transfer.names`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import NamedTuple

import yaml

from .. import names
from ..reference.splits import equal_shares
from ..reference.systems import ReferenceCatalogue
from ..settings import canonical


class Variant(NamedTuple):
    """What a trained model's name says (:class:`~mlip_transfer.names.ModelName`), with the seed resolved:
    the model, its training seed, and its number of training frames (None: all of its training split)."""

    model: str
    seed: int
    frames: int | None


@cache
def fine_tune_protocols() -> dict:
    """The named fine-tuning protocols (``data/fine_tune_protocols.yaml``), each with its source."""
    return yaml.safe_load(files("mlip_transfer").joinpath("data/fine_tune_protocols.yaml").read_text())


class ModelCatalogue:
    """Every model the study trains or is given, and the runs that judge them."""

    def __init__(self, config: Mapping, reference: ReferenceCatalogue):
        # training: null is an evaluation-only study: nothing is trained, the external models (and the
        # foundation model, when given) are judged
        self.config, self.training, self.reference = config, config["training"] or {}, reference
        self.trains: bool = config["training"] is not None
        self.has_foundation: bool = config["foundation_model"] is not None
        labels = reference.concentrations if self.trains else []
        self.fine_tuned: dict[str, str] = {names.fine_tune(label): label for label in labels}
        self.multi_models: dict[str, list[str]] = {
            m["name"]: list(m["concentrations"]) for m in self.training.get("multi_concentration_models", [])
        }
        self.trained_models: list[str] = [*self.fine_tuned, *self.multi_models]
        # models trained elsewhere (external_models): judged like the study's, never trained here
        self.external: dict[str, Mapping] = {m["name"]: m for m in config["external_models"]}
        self.foundation: list[str] = [names.FOUNDATION] if self.has_foundation else []
        self.models: list[str] = [*self.foundation, *self.trained_models, *self.external]
        # One fine-tune per seed: the first seed's is the study's model (MD, parity plots); the others, named
        # "<model>.seed<n>", form its committee (uncertainty over initialisation and shuffling).
        self.seeds: list[int] = list(self.training.get("seeds") or [config["seed"]])
        # training.committee_models: only these are trained with every seed (the others with the first)
        committees = self.training.get("committee_models")
        self.committee_models: list[str] = [m for m in self.trained_models if committees is None or m in committees]
        self.committee_members: list[str] = [
            names.committee_member(model, seed) for model in self.committee_models for seed in self.seeds[1:]
        ]
        # Learning curves: fine-tunes of selected concentrations on the first n frames of their training blocks.
        budgets = self.training.get("frame_budgets") or {"concentrations": [], "frames": []}
        self.frame_budget_concentrations: list[str] = list(budgets["concentrations"])
        self.frame_budget_models: list[str] = [
            names.frame_budget(names.fine_tune(label), n)
            for label in budgets["concentrations"]
            for n in budgets["frames"]
        ]

    # --- the study's lists of models and runs -----------------------------------------------------------

    @property
    def seeded_fine_tunes(self) -> list[str]:
        """Every fine-tuned model for every training seed: the study's models and their committees."""
        return [*self.trained_models, *self.committee_members]

    @property
    def all_fine_tunes(self) -> list[str]:
        """Every fine-tune the study trains: all seeds and the learning curves' subsets of training frames."""
        return [*self.seeded_fine_tunes, *self.frame_budget_models]

    @property
    def evaluated_models(self) -> list[str]:
        """Every model judged on every concentration's test set: the foundation model, every fine-tune and every
        external model."""
        return [*self.foundation, *self.all_fine_tunes, *self.external]

    @property
    def learning_curve_ends(self) -> list[str]:
        """The fine-tunes on all training frames at the end of each learning curve."""
        return [names.fine_tune(label) for label in self.frame_budget_concentrations]

    @property
    def has_committees(self) -> bool:
        """Whether any model is trained with two or more seeds."""
        return bool(self.committee_members)

    @property
    def committee_runs(self) -> list[tuple[str, str]]:
        """(member, test set) of every seed's fine-tune of every committee model on every concentration's test set."""
        return [
            (member, label)
            for model in self.committee_models
            for member in self.members_of(model)
            for label in self.reference.concentrations
        ]

    def in_trajectory_runs(self) -> list[tuple[str, str]]:
        """(fine-tune or committee member, "<label>.block"): each concentration's fine-tunes on the test block
        of their own training AIMD, beside an independent test AIMD (what sharing a trajectory flatters)."""
        home = {
            test_set: names.fine_tune(names.test_set_concentration(test_set)[0])
            for test_set in self.reference.in_trajectory_test_sets
        }
        return [
            (member, test_set)
            for test_set, model in home.items()
            if model in self.fine_tuned
            for member in self.members_of(model)
        ]

    def members_of(self, model: str) -> list[str]:
        """A model's fine-tunes: the study's (first seed) and its committee members."""
        return [model, *(m for m in self.committee_members if names.without_seed(m) == model)]

    # --- what a model is ------------------------------------------------------------------------------

    def training_concentrations(self, model: str) -> list[str]:
        """Concentration labels whose frames a fine-tuned model is trained on."""
        if model in self.fine_tuned:
            return [self.fine_tuned[model]]
        if model in self.multi_models:
            return self.multi_models[model]
        raise KeyError(f"unknown fine-tuned model {model!r}; fine-tuned models are {self.trained_models}")

    def training_map(self) -> dict[str, list[str]]:
        """Training concentrations of every fine-tuned model, and the declared ones of every external model
        (the foundation model has none here)."""
        trained = {model: self.training_concentrations(model) for model in self.trained_models}
        return {**trained, **{name: list(m["training_concentrations"]) for name, m in self.external.items()}}

    def variant(self, name: str) -> Variant:
        """Model, seed and training frames of a trained model's name: "ft_c6_26" (the first seed, all
        frames), "ft_c6_26.seed3" (a committee member) or "ft_c6_26.frames100" (a learning-curve point)."""
        parsed = names.ModelName.parse(name)
        return Variant(parsed.model, self.seeds[0] if parsed.seed is None else parsed.seed, parsed.frames)

    def resampled(self, model: str) -> bool:
        """Whether a fine-tune trains on its own bootstrap resample of its model's frames (a committee member
        under training.committee_training_frames: bootstrap)."""
        return (
            self.training.get("committee_training_frames") == "bootstrap" and self.variant(model).seed != self.seeds[0]
        )

    @property
    def committee_members_differ_in(self) -> str:
        if self.training.get("committee_training_frames") == "bootstrap":
            return "seed and bootstrap-resampled training frames"
        return "seed (initialisation and shuffling)"

    def training_frames(self, model: str) -> int:
        """Training frames of a single-concentration fine-tune or learning-curve point."""
        name, _, frames = self.variant(model)
        return frames or self.reference.split_sizes(self.training_concentrations(name)[0])["train"]

    def frames_used(self, model: str) -> dict[str, int]:
        """Training plus validation frames a fine-tuned model (any seed) takes from each concentration's AIMD:
        a fine-tune all of its train and valid blocks; a learning-curve point the first n training frames
        and the valid block; a multi-concentration mix an equal share of the single fine-tune's budget."""
        name, _, frames = self.variant(model)
        labels = self.training_concentrations(name)
        sizes = {label: self.reference.split_sizes(label) for label in labels}
        if len(labels) == 1:
            return {labels[0]: (frames or sizes[labels[0]]["train"]) + sizes[labels[0]]["valid"]}
        train = equal_shares(sizes[labels[0]]["train"], len(labels))
        valid = equal_shares(min(s["valid"] for s in sizes.values()), len(labels))
        return {label: train[i] + valid[i] for i, label in enumerate(labels)}

    # --- what each job's result depends on (rule params) --------------------------------------------

    def fine_tune_hyperparameters(self) -> dict:
        """mace_run_train settings of every fine-tune: the protocol's (training.protocol), overridden key by
        key by training.fine_tune, and whether it is a multihead fine-tune with replay data."""
        protocol = fine_tune_protocols()[self.training["protocol"]]
        return {
            **protocol["hyperparameters"],
            **self.training["fine_tune"],
            "multiheads_finetuning": protocol["multihead"],
        }

    def training_settings(self, hyperparameters: Mapping, seed: int) -> dict:
        """mace_run_train settings that shape the model: its hyperparameters, precision and seed."""
        return {
            "hyperparameters": canonical(hyperparameters),
            "default_dtype": self.training["default_dtype"],
            "seed": seed,
        }

    def fine_tune_settings(self, model: str) -> dict:
        """mace_run_train settings of one fine-tune (any seed or frame budget)."""
        return self.training_settings(self.fine_tune_hyperparameters(), self.variant(model).seed)

    @property
    def evaluation_dtype(self) -> str:
        """The precision models are evaluated in: evaluation.default_dtype, else the fine-tunes' (float64 where
        nothing is trained)."""
        return self.config["evaluation"]["default_dtype"] or self.training.get("default_dtype", "float64")

    def pretraining_settings(self) -> dict:
        """mace_run_train settings of a demo foundation model pretrained here (foundation_model.pretrain)."""
        pretrain = self.config["foundation_model"]["pretrain"]
        return self.training_settings(pretrain["hyperparameters"], self.config["seed"])
