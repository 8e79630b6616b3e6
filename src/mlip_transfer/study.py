"""The study a config describes, derived once: one catalogue per pipeline stage, each the only place its runs
are derived from the config, with the settings each of its jobs depends on.

- :attr:`Study.reference` (:class:`~mlip_transfer.reference.systems.ReferenceCatalogue`): boxes, AIMD runs,
  splits and test sets;
- :attr:`Study.models` (:class:`~mlip_transfer.models.catalogue.ModelCatalogue`): the foundation model,
  fine-tunes, committees, learning curves and the runs that evaluate them;
- :attr:`Study.md` (:class:`~mlip_transfer.dynamics.catalogue.MDCatalogue`): MD replicas and their
  reference-method labels;
- :attr:`Study.analysis` (:class:`~mlip_transfer.analysis.catalogue.AnalysisCatalogue`): analysed trajectories;
- :attr:`Study.repair` (:class:`~mlip_transfer.repair.catalogue.RepairCatalogue`): repair fine-tunes and the
  pools their frames are chosen from.

The workflow (``workflow/rules/common.smk``) and the config checks (:mod:`mlip_transfer.validation`) both
read the study from here. Settings are rule params (:mod:`mlip_transfer.settings`); how a job runs is not
(:mod:`mlip_transfer.launch`). The config is expected to be validated against ``config/schema.yaml`` first
(which fills in defaults).
"""

from __future__ import annotations

from collections.abc import Mapping

from .analysis.catalogue import AnalysisCatalogue
from .chemistry import Hydroxide
from .dynamics.catalogue import MDCatalogue
from .models.catalogue import ModelCatalogue
from .reference.systems import ReferenceCatalogue
from .repair.catalogue import RepairCatalogue


class Study:
    """The catalogues of a (validated) config, and the solution's chemistry."""

    def __init__(self, config: Mapping):
        self.hydroxide = Hydroxide(config["cation"])  # elements, masses, data of MOH(aq)
        self.reference = ReferenceCatalogue(config)
        self.models = ModelCatalogue(config, self.reference)
        self.md = MDCatalogue(config, self.reference)
        self.analysis = AnalysisCatalogue(config, self.reference, self.md)
        self.repair = RepairCatalogue(config, self.reference, self.models, self.md)

    @property
    def evaluated_models(self) -> list[str]:
        """Every model judged on every test set: the study's (all seeds, learning-curve points) and the repaired
        ones (all seeds)."""
        return [*self.models.evaluated_models, *self.repair.members]
