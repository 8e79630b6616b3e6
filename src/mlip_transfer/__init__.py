"""mlip-transfer: how well does a fine-tuned MACE potential transfer across KOH(aq) concentrations?

One module per domain concept: :mod:`study` (the systems, models and runs of a config, and what each job
depends on), :mod:`box` (periodic KOH/water boxes), :mod:`cp2k` (CP2K inputs and runs), :mod:`frames` (CP2K
output to extended XYZ), :mod:`datasets` (time-block splits, multi-concentration mixes), :mod:`training`
(``mace_run_train`` command lines), :mod:`evaluation` (errors, seeds, the transferability matrix and its
views), :mod:`cost` (core- and GPU-hours from Snakemake's benchmark files), :mod:`md` (production MD with
ASE) and :mod:`md_torch_sim` (batched MD with torch-sim), :mod:`analysis` (the trajectory analysis driver
over :mod:`geometry` (periodic neighbour lists, trajectory chunks), :mod:`hbonds` (species, hydrogen
bonds, proton transfer), :mod:`structure` (RDFs) and :mod:`transport` (MSD, diffusion, conductivity)) and
:mod:`plotting` (figures).
"""

__version__ = "0.1.0"
