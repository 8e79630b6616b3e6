# mlip-transfer: how well does a MACE potential fine-tuned at one KOH(aq) concentration transfer to others?
#
#   snakemake --cores 2 --configfile config/demo.yaml     # the laptop demo
#   snakemake --profile slurm                               # production (config/config.yaml) on a cluster
#   snakemake concentration_<label> ...                     # one concentration's chain alone
#
# The DAG: box → relaxed box → AIMD (CP2K) → frames (or frames imported from existing AIMD) → splits → MACE
# fine-tuning → every model on every test set (transferability matrix) → production MD → hydroxide, H-bond, RDF
# and diffusion analysis → figures.
from snakemake.logging import logger
from snakemake.utils import min_version

from mlip_transfer.cluster import check_slurm_settings
from mlip_transfer.models.transfer import recommendation_statement
from mlip_transfer.provenance import write_manifest
from mlip_transfer.repair.curves import summary_statements
from mlip_transfer.validation import check_config, check_model_files, check_schema

min_version("8.0")


# A --configfile replaces the production config rather than being merged into it (Snakemake merges
# mappings recursively, which would add the production concentrations to the demo); --config key=value
# alone still applies on top of the production config.
if not workflow.overwrite_configfiles:

    configfile: f"{workflow.basedir}/config/config.yaml"


check_schema(
    config, f"{workflow.basedir}/config/schema.yaml"
)  # fills in the schema's defaults
check_config(
    config
)  # what the schema cannot express: references, physical limits, empty outputs


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


if STUDY.reference.cp2k:  # cp2k: null: a study of imported AIMD that never calls CP2K

    include: "workflow/rules/aimd.smk"


include: "workflow/rules/imported.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/md.smk"


if STUDY.repair.repairs:

    include: "workflow/rules/repair.smk"


if MD_REFERENCE_RUNS:

    include: "workflow/rules/md_reference.smk"


if STUDY.md.reference_skipped:
    logger.warning(STUDY.md.reference_skipped)


include: "workflow/rules/analysis.smk"


onstart:
    # before anything is submitted: what only the user can know (the executor is not known while parsing),
    # and the external model files, which only the machine Snakemake is started on needs to see
    check_model_files(config)
    if workflow.executor_plugin.name == "slurm":
        check_slurm_settings(config, " and ".join(map(str, workflow.configfiles)))


onsuccess:
    # config, versions, git commit and the checksums behind every output: results/<run>/manifest.json
    answer = recommendation_statement(LAYOUT.matrix_table("recommendation"))
    if answer:
        logger.info(
            f"\nThe answer ({LAYOUT.matrix_table('recommendation')}):\n{answer}\n"
        )
    repairs = (
        summary_statements(LAYOUT.repair_table("summary"))
        if STUDY.repair.repairs
        else []
    )
    if repairs:
        logger.info(
            f"Repairs ({LAYOUT.repair_table('summary')}):\n"
            + "\n".join(repairs)
            + "\n"
        )
    write_manifest(
        LAYOUT,
        config,
        cp2k_command=LAUNCH.cp2k.command,
        imported_files=STUDY.reference.imported_file_list(),
        skipped=(
            {"md_reference": STUDY.md.reference_skipped}
            if STUDY.md.reference_skipped
            else {}
        ),
        workflow_dir=workflow.basedir,
    )


rule all:
    default_target: True
    input:
        final_outputs(),


# What the study will ask of a SLURM allocation, before anything runs (`snakemake plan`): per stage its jobs,
# the SLURM jobs they become through the profile in slurm/, and the core- and GPU-hours those request.
localrules:
    plan,


rule plan:
    output:
        LAYOUT.plan,
    log:
        log("plan"),
    benchmark:
        bench("plan")
    conda:
        "envs/analysis.yaml"
    params:
        stages=lambda wildcards: allocation_plan(),
    script:
        "workflow/scripts/write_plan.py"


for _label in CONCENTRATIONS:

    rule:
        name:
            f"concentration_{_label}"
        input:
            concentration_outputs(_label),
