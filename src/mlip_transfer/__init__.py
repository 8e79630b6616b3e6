"""mlip-transfer: how well does a MACE potential fine-tuned at one alkali-hydroxide concentration transfer to others?

Grouped by pipeline stage as the workflow's rule files are (imports flow one way):

- top level: :mod:`study` (a config's study: one catalogue per stage), :mod:`layout` (every results path),
  :mod:`launch` (how jobs run), :mod:`settings` (job settings as Snakemake compares them), :mod:`units`,
  :mod:`names` (the grammar of every name), :mod:`chemistry` (the hydroxide and its data), :mod:`geometry`,
  :mod:`files` (file conventions), :mod:`errors` and :mod:`limits` (shared below every stage),
  :mod:`validation`, :mod:`cluster`, :mod:`plan` (what a study asks of a SLURM allocation), :mod:`provenance`,
  :mod:`logs`, :mod:`plotting`;
- :mod:`reference` (boxes, CP2K inputs and outputs, AIMD frames and their physical plausibility, E0s, splits, the
  systems catalogue);
- :mod:`models` (MACE files, fine-tuning, evaluation, uncertainty, the transferability matrix, cost, the
  model catalogue);
- :mod:`dynamics` (H5MD trajectories, the ASE and batched MD engines, stability, relabelling, the MD
  catalogue);
- :mod:`analysis` (the trajectory analysis driver and its accumulators, replicas, the analysis catalogue).
"""

__version__ = "0.1.0"
