"""The user docs say what the code does: every config key in config/README.md, the README's production plan
equal to what `snakemake plan` computes, and every file, doc and make target they name exists."""

import re

import pandas as pd
import pytest
import yaml

from conftest import REPO
from mlip_transfer.plan import study_plan
from mlip_transfer.study import Study
from mlip_transfer.validation import check_schema

SCHEMA = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
README = (REPO / "README.md").read_text()
DOCS = {path: path.read_text() for path in [REPO / "README.md", REPO / "config" / "README.md", *REPO.glob("docs/*.md")]}


def _resolved(node):
    """A schema node with its $ref (or an object-or-null's `then: {$ref}`) followed."""
    for ref in (node.get("$ref"), (node.get("then") or {}).get("$ref")):
        if ref:
            return {**SCHEMA["$defs"][ref.split("/")[-1]], **node}
    return node


def schema_keys(node=SCHEMA, path=""):
    """Every key of the config, as config/README.md writes it ("md.models", "external_models[].name")."""
    node = _resolved(node)
    for key, sub in (node.get("properties") or {}).items():
        full = f"{path}.{key}" if path else key
        yield full
        yield from schema_keys(sub, full)
        items = _resolved(sub).get("items")
        if isinstance(items, dict) and "properties" in _resolved(items):
            yield from schema_keys(items, f"{full}[]")


def test_config_readme_lists_every_key_of_the_schema():
    listed = set(re.findall(r"^\| `([^`]+)` \|", DOCS[REPO / "config" / "README.md"], re.MULTILINE))
    keys = set(schema_keys())
    assert keys - listed == set(), "keys of config/schema.yaml missing from config/README.md"
    assert listed - keys <= {p.name for p in (REPO / "config").iterdir()} | {
        f"config/{p.name}" for p in (REPO / "config").iterdir()
    }


def test_the_readme_quotes_the_production_plan_as_snakemake_plan_computes_it():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    check_schema(config, REPO / "config" / "schema.yaml")
    computed = pd.DataFrame(study_plan(Study(config), config, REPO / "slurm" / "config.yaml")).set_index("stage")
    table = README.split("| stage | jobs | slurm_jobs |")[1].split("\n\n")[0]
    quoted = {row[0]: row[1:] for row in (line.strip(" |").split(" | ") for line in table.splitlines()[2:])}
    assert list(quoted) == list(computed.index)
    for stage, (jobs, slurm_jobs, core_hours, gpu_hours) in quoted.items():
        row = computed.loc[stage]
        assert (int(jobs), int(slurm_jobs)) == (row["jobs"], row["slurm_jobs"]), stage
        assert float(core_hours) == pytest.approx(row["cpu_core_hours_requested"], abs=0.05), stage
        assert float(gpu_hours) == pytest.approx(row["gpu_hours_requested"], abs=0.05), stage


@pytest.mark.parametrize("doc", sorted(DOCS), ids=lambda p: str(p.relative_to(REPO)))
def test_every_file_doc_and_make_target_a_doc_names_exists(doc):
    text = DOCS[doc]
    named = set(re.findall(r"\((?!https?:)([\w./-]+\.md)\)", text))  # markdown links
    named |= set(re.findall(r"`((?:config|docs|benchmarks|slurm|workflow|src/mlip_transfer)/[\w./-]+\.\w+)`", text))
    missing = [n for n in named if not ((doc.parent / n).exists() or (REPO / n).exists())]
    assert not missing
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    assert set(re.findall(r"`make ([\w-]+)", text)) <= targets
