"""mlip-transfer: how well does a fine-tuned MACE potential transfer across KOH(aq) concentrations?

One module per domain concept: :mod:`box` (periodic KOH/water boxes), :mod:`cp2k` (CP2K inputs and
runs), :mod:`frames` (CP2K output to extended XYZ), :mod:`datasets` (time-block splits, multi-concentration
mixes), :mod:`training` (``mace_run_train`` command lines), :mod:`evaluation` (errors and the
transferability matrix), :mod:`md` (production MD with ASE), :mod:`analysis` (species, hydrogen bonds,
RDF, diffusion) and :mod:`plotting` (figures).
"""

__version__ = "0.1.0"
