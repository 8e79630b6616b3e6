import numpy as np
import pytest

from mlip_transfer.chemistry import ChemistryError, Hydroxide
from mlip_transfer.reference.box import (
    AVOGADRO,
    BoxError,
    Composition,
    build_box,
    composition_for_molarity,
    composition_molarity,
    correlated_density_kg_per_m3,
    cubic_box_length_A,
)

KOH, NAOH = Hydroxide("K"), Hydroxide("Na")


def test_density_of_pure_water_is_the_correlation_prefactor():
    assert KOH.density_kg_per_m3(0.0, 0.0, 298.15) == pytest.approx(997.03)


def test_density_rises_with_mass_fraction_as_exp_0_0086_w():
    ratio = KOH.density_kg_per_m3(30.0, 7.6, 298.15) / KOH.density_kg_per_m3(0.0, 0.0, 298.15)
    assert ratio == pytest.approx(np.exp(0.258))


def test_naoh_density_follows_its_table_and_warns_beyond_it():
    assert NAOH.density_kg_per_m3(0.0, 2.0, 298.15) == pytest.approx(1077.87)  # a tabulated point
    assert NAOH.density_kg_per_m3(0.0, 2.25, 298.15) == pytest.approx((1077.87 + 1096.26) / 2)
    # 1 NaOH + 14 H2O is 3.96 mol/kg: inside the table, and a denser box than the same KOH count would give
    assert cubic_box_length_A(Composition(1, 14, "Na")) < cubic_box_length_A(Composition(1, 14, "K"))
    with pytest.warns(UserWarning, match="outside the 0.0–6.0 mol/kg of the NaOH"):
        composition_for_molarity(11.0, 15, cation="Na")


def test_a_hydroxide_without_a_density_correlation_needs_the_box_length():
    with pytest.raises(ChemistryError, match="no density correlation of RbOH"):
        correlated_density_kg_per_m3(Composition(1, 14, "Rb"))
    assert Hydroxide("Li").elements == ["H", "Li", "O"] and Hydroxide("Cs").atomic_numbers == [1, 8, 55]
    with pytest.raises(ChemistryError, match="not an alkali metal"):
        Hydroxide("Mg")


def test_paper_compositions_match_their_molarities():
    # 1 KOH + 95 H2O ≈ 0.56 M and 32 KOH + 64 H2O ≈ 18 M (Hänseroth & Dreßler)
    assert composition_molarity(Composition(1, 95, "K")) == pytest.approx(0.58, abs=0.03)
    with pytest.warns(UserWarning, match="outside"):
        assert composition_for_molarity(17.98, 96, cation="K") == Composition(31, 65, "K")
    assert composition_for_molarity(0.56, 96, cation="K") == Composition(1, 95, "K")


def test_box_length_gives_the_correlated_density():
    composition = Composition(11, 85, "K")
    length = cubic_box_length_A(composition)
    mass_kg = composition.mass_g_per_mol / AVOGADRO / 1000
    density = mass_kg / (length * 1e-10) ** 3
    assert density == pytest.approx(correlated_density_kg_per_m3(composition), rel=1e-9)


def test_box_has_the_composition_no_overlaps_and_is_reproducible():
    composition = Composition(3, 12, "K")
    length = cubic_box_length_A(composition)
    a = build_box(composition, length, seed=3)
    b = build_box(composition, length, seed=3)
    c = build_box(composition, length, seed=4)
    assert a.get_chemical_formula() == "H27K3O15"
    assert build_box(Composition(3, 12, "Na"), length, seed=3).get_chemical_formula() == "H27Na3O15"
    assert np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)
    assert a.pbc.all() and np.allclose(a.cell.lengths(), length)
    distances = a.get_all_distances(mic=True)
    heavy = np.array([z != 1 for z in a.numbers])
    # intramolecular O–H bonds are ~0.96 Å; between molecules nothing closer than 1.6 Å, O/K–O/K 2.2 Å
    pair = distances[np.ix_(heavy, heavy)]
    assert pair[~np.eye(heavy.sum(), dtype=bool)].min() >= 2.2
    assert np.sort(distances, axis=1)[:, 1].min() > 0.9


def test_impossible_density_is_refused():
    with pytest.raises(BoxError, match="too dense"):
        build_box(Composition(5, 30, "K"), 6.0, seed=1, attempts_per_molecule=50)


def test_molarity_must_be_positive():
    with pytest.raises(BoxError, match="positive"):
        composition_for_molarity(0.0, 96, cation="K")
