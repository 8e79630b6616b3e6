# MACE models through mace_run_train: the foundation model (a given file, or pretrained here for the
# demo), one fine-tune per concentration and the multi-concentration fine-tunes, each once per training seed.


if STUDY.reference.pretrain:

    rule pretrain_foundation_model:
        input:
            **{
                s: LAYOUT.split(STUDY.reference.pretrain.label, s)
                for s in ("train", "valid")
            },
            e0s=LAYOUT.e0s,
        output:
            LAYOUT.model(names.FOUNDATION),
        log:
            log("pretrain_foundation_model"),
        benchmark:
            bench("pretrain_foundation_model")
        conda:
            "../../envs/mace.yaml"
        threads: config["training"]["threads"]
        resources:
            **slurm_resources("training"),
        params:
            training=STUDY.models.pretraining_settings(),
            work_dir=training_dir,
            launch=LAUNCH.training,
        script:
            "../scripts/train_mace.py"

elif STUDY.models.has_foundation:

    localrules:
        provide_foundation_model,

    # Runs where the network is (the login node): compute nodes only ever see the copy in results/.
    rule provide_foundation_model:
        output:
            LAYOUT.model(names.FOUNDATION),
        log:
            log("provide_foundation_model"),
        benchmark:
            bench("provide_foundation_model")
        conda:
            "../../envs/mace.yaml"
        params:
            file=config["foundation_model"]["file"],
            url=config["foundation_model"]["url"],
            sha256=config["foundation_model"]["sha256"],
            atomic_numbers=STUDY.hydroxide.atomic_numbers,
        script:
            "../scripts/provide_foundation_model.py"


if STUDY.models.all_fine_tunes:  # training: null trains nothing

    rule fine_tune:
        input:
            unpack(training_sets),
            **replay_data(),
            e0s=LAYOUT.e0s,
            foundation=LAYOUT.model(names.FOUNDATION),
        output:
            LAYOUT.model("{model}"),
        log:
            log("fine_tune", "model"),
        benchmark:
            bench("fine_tune", "model")
        wildcard_constraints:
            model="|".join(re.escape(m) for m in STUDY.models.all_fine_tunes),
        conda:
            "../../envs/mace.yaml"
        threads: config["training"]["threads"]
        resources:
            **slurm_resources("training"),
        params:
            training=lambda wildcards: STUDY.models.fine_tune_settings(wildcards.model),
            work_dir=training_dir,
            launch=LAUNCH.training,
        script:
            "../scripts/train_mace.py"


if STUDY.models.external:

    localrules:
        provide_external_model,

    # A model trained elsewhere (external_models), copied once with its SHA-256 recorded beside it.
    rule provide_external_model:
        output:
            LAYOUT.model("{model}"),
        log:
            log("provide_external_model", "model"),
        benchmark:
            bench("provide_external_model", "model")
        wildcard_constraints:
            model="|".join(re.escape(m) for m in STUDY.models.external),
        conda:
            "../../envs/mace.yaml"
        params:
            file=lambda w: STUDY.models.external[w.model]["file"],
            sha256=lambda w: STUDY.models.external[w.model]["sha256"],
            atomic_numbers=STUDY.hydroxide.atomic_numbers,
        script:
            "../scripts/provide_external_model.py"
