"""The study's repairs (config ``repair``): for each (base model, target concentration), one fine-tune continued
from the base's weights per selection and frame budget, the pools of candidate frames their selections draw
from, and what each selection and fine-tune job depends on. Names: :func:`mlip_transfer.names.repaired`.

A **pool** is where a selection draws its frames: the target's training block of AIMD (source ``aimd``), or
the base's own MD at the target (source ``md``: the active-learning round), whose frames are labelled with
the reference method only once chosen.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import names
from ..dynamics.catalogue import MDCatalogue
from ..models.catalogue import ModelCatalogue
from ..models.transfer import home_models
from ..reference.systems import ReferenceCatalogue
from ..settings import JobSettings, canonical

SELECTIONS = ("even", "random", "committee")  # from the target's AIMD training block
MD_SELECTIONS = ("md_even", "md_committee")  # from the base's own MD at the target
AIMD_POOL, MD_POOL = "aimd", "md"
MACE_BATCH_SIZE = 10  # mace_run_train's default --batch_size


@dataclass(frozen=True)
class FrameSelection(JobSettings):
    """Which pool frames one repair is given: ``frames`` of them picked by ``selection`` (without its source
    prefix: even, random or committee), with the pool's random stream (``seed``, random only)."""

    selection: str
    frames: int
    seed: int


@dataclass(frozen=True)
class Repair:
    """One repaired model (its first seed): the base it continues, the target concentration, the selection
    (:data:`SELECTIONS`, :data:`MD_SELECTIONS`), the pool it draws from, its frame budget, the replay file of
    an external base, its training seeds, the percentage that counts as repaired and its config entry."""

    name: str
    base: str
    target: str
    selection: str
    source: str
    frames: int
    replay_frames: int
    replay_file: str | None
    seeds: tuple[int, ...]
    within_percent: float
    entry: int

    @property
    def by_committee(self) -> bool:
        """Whether its frames are those of largest committee disagreement."""
        return self.selection.endswith("committee")

    @property
    def pool(self) -> tuple[str, str, str]:
        """(base, target, source) of the pool its frames come from."""
        return self.base, self.target, self.source

    @property
    def members(self) -> list[str]:
        """Its fine-tunes, one per seed: the first under its own name, the others "<name>.seed<n>"."""
        return [self.name, *(names.committee_member(self.name, s) for s in self.seeds[1:])]


def random_stream(seed: int, base: str, target: str) -> int:
    """The seed of a (base, target)'s random selections: one permutation of the pool per pair, so a smaller
    random budget is the start of a larger one (the curve's points differ in frames, not in luck)."""
    return int(np.random.SeedSequence([seed, zlib.crc32(f"{base}@{target}".encode())]).generate_state(1)[0])


class RepairCatalogue:
    """Every repaired model of the study, its pool and the settings of its jobs."""

    def __init__(self, config: Mapping, reference: ReferenceCatalogue, models: ModelCatalogue, md: MDCatalogue):
        self.config, self.reference, self.models, self.md = config, reference, models, md
        self.entries: list[Mapping] = list(config["repair"])
        self.repairs: dict[str, Repair] = {}
        for i, entry in enumerate(self.entries):
            seeds = tuple(entry["seeds"] or models.seeds[:1])
            budgets = [(s, n) for s in entry["selection"] for n in entry["frames"]]
            if entry["md_round"]:
                budgets += [(s, entry["md_round"]["frames"]) for s in MD_SELECTIONS]
            for selection, n in budgets:
                name = names.repaired(entry["base"], entry["target"], selection, n)
                self.repairs[name] = Repair(
                    name=name,
                    base=entry["base"],
                    target=entry["target"],
                    selection=selection,
                    source=MD_POOL if selection in MD_SELECTIONS else AIMD_POOL,
                    frames=n,
                    replay_frames=round(entry["replay"] * n),
                    replay_file=entry["replay_file"],
                    seeds=seeds,
                    within_percent=entry["within_percent"],
                    entry=i,
                )

    def replayed(self, model: str) -> int:
        """The base's frames a repair replays: ``replay`` × n, at most the base's training frames."""
        repair = self.of(model)
        return int(min(repair.replay_frames, self._own_training_frames(repair.base)))

    def own_training_block(self, base: str) -> tuple[str, str] | None:
        """Where a base trained here has its training frames: ("split", system) for a fine-tune or a foundation
        model pretrained here, ("multi", model) for a multi-concentration model's mix; None for a base trained
        elsewhere (it replays only frames its entry names)."""
        if base in self.models.fine_tuned:
            return "split", self.models.fine_tuned[base]
        if base in self.models.multi_models:
            return "multi", base
        if base == names.FOUNDATION and self.reference.pretrain:
            return "split", self.reference.pretrain.label
        return None

    def _own_training_frames(self, base: str) -> int | float:
        """Training frames of a base trained here (a multi-concentration mix has a single fine-tune's budget,
        that of its first concentration); unknown (infinite) for another."""
        block = self.own_training_block(base)
        if block is None:
            return float("inf")
        kind, name = block
        return self.reference.split_sizes(name if kind == "split" else self.models.multi_models[name][0])["train"]

    # --- the study's lists ---------------------------------------------------------------------------

    @property
    def models_repaired(self) -> list[str]:
        """Every repaired model (first seeds): rows of kind "repair" in the matrix."""
        return list(self.repairs)

    @property
    def members(self) -> list[str]:
        """Every repair fine-tune, all seeds: each is trained and judged on every test set."""
        return [m for repair in self.repairs.values() for m in repair.members]

    @property
    def pools(self) -> list[tuple[str, str, str]]:
        """(base, target, source) of every pool a selection draws from."""
        return list(dict.fromkeys(r.pool for r in self.repairs.values()))

    @property
    def bases(self) -> list[str]:
        return list(dict.fromkeys(r.base for r in self.repairs.values()))

    def replays_own_training(self, base: str) -> bool:
        """Whether a base's training frames are the study's (:meth:`own_training_block`)."""
        return self.own_training_block(base) is not None

    @property
    def committee_pools(self) -> list[tuple[str, str, str]]:
        """The pools whose frames the base's committee is run on: those of a committee selection, and every
        AIMD pool of a base with a committee (selected_frames.csv reports the disagreement of any pick)."""
        wanted = {r.pool for r in self.repairs.values() if r.by_committee}
        wanted |= {r.pool for r in self.repairs.values() if len(self.models.members_of(r.base)) > 1}
        return [p for p in self.pools if p in wanted]

    @property
    def md_pools(self) -> list[tuple[str, str]]:
        """(base, target) of every active-learning round: the base's own MD at the target."""
        return [(b, t) for b, t, s in self.pools if s == MD_POOL]

    def of(self, model: str) -> Repair:
        """The repair of a repaired model or of one of its seeds ("<name>.seed<n>")."""
        return self.repairs[names.ModelName.parse(model).model]

    def seed(self, model: str) -> int:
        parsed = names.ModelName.parse(model)
        return self.repairs[parsed.model].seeds[0] if parsed.seed is None else parsed.seed

    def training_map(self) -> dict[str, list[str]]:
        """Each repaired model's training concentrations: its base's (its home) and the target's."""
        homes = self.models.training_map()
        return {name: list(dict.fromkeys([*homes.get(r.base, []), r.target])) for name, r in self.repairs.items()}

    def records(self) -> list[dict]:
        """Every repair as plain values (the curves' job)."""
        return [
            {
                "name": r.name,
                "base": r.base,
                "target": r.target,
                "selection": r.selection,
                "source": r.source,
                "frames": r.frames,
                "seeds": list(r.seeds),
                "within_percent": r.within_percent,
            }
            for r in self.repairs.values()
        ]

    def frames_used(self) -> dict[str, dict[str, int]]:
        """AIMD frames each repair from the target's AIMD takes (its cost's rule: :mod:`..models.cost`); a
        round from the base's MD takes none (its single points are counted in the curves)."""
        return {
            member: {r.target: r.frames} for r in self.repairs.values() if r.source == AIMD_POOL for member in r.members
        }

    def own_models(self) -> dict[str, str]:
        """Each target's own model, what a repair aims at: the study's fine-tune there, or an external model
        declared to have been trained there."""
        targets = list(dict.fromkeys(r.target for r in self.repairs.values()))
        return home_models(targets, self.models.training_map())

    # --- what each job depends on (rule params) ------------------------------------------------------

    def selection(self, model: str) -> dict:
        """Which pool frames a repair is given (:class:`FrameSelection`)."""
        repair = self.of(model)
        selection = repair.selection.removeprefix("md_")
        return FrameSelection(
            selection=selection,
            frames=repair.frames,
            seed=random_stream(self.config["seed"], repair.base, repair.target) if selection == "random" else 0,
        ).as_params()

    def fine_tune_settings(self, model: str) -> dict:
        """mace_run_train settings of a repair fine-tune: the study's fine-tune hyperparameters, overridden by
        its entry's ``fine_tune``, as a naive fine-tune of the base's weights (its replay is in its frames)."""
        repair = self.of(model)
        hyperparameters = {
            **self.models.fine_tune_hyperparameters(),
            **self.entries[repair.entry]["fine_tune"],
            "multiheads_finetuning": False,
        }
        # mace drops a last incomplete batch: a batch larger than the frames would leave none
        frames = repair.frames + self.replayed(model)
        hyperparameters["batch_size"] = min(hyperparameters.get("batch_size", MACE_BATCH_SIZE), frames)
        return self.models.training_settings(canonical(hyperparameters), self.seed(model))

    def md_pool_frames(self, base: str, target: str) -> int | None:
        """Frames of an active-learning round's pool, spread over the base's MD after equilibration (None: all)."""
        (entry,) = (e for e in self.entries if (e["base"], e["target"]) == (base, target))
        return entry["md_round"].get("pool_frames")  # not given: every frame after equilibration
