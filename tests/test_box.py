import numpy as np
import pytest

from mlip_transfer.box import (
    AVOGADRO,
    BoxError,
    Composition,
    build_box,
    composition_for_molarity,
    composition_molarity,
    cubic_box_length_A,
    koh_density_kg_per_m3,
)


def test_density_of_pure_water_is_the_correlation_prefactor():
    assert koh_density_kg_per_m3(0.0) == pytest.approx(997.03)


def test_density_rises_with_mass_fraction_as_exp_0_0086_w():
    assert koh_density_kg_per_m3(30.0) / koh_density_kg_per_m3(0.0) == pytest.approx(np.exp(0.258))


def test_paper_compositions_match_their_molarities():
    # 1 KOH + 95 H2O ≈ 0.56 M and 32 KOH + 64 H2O ≈ 18 M (Hänseroth & Dreßler)
    assert composition_molarity(Composition(1, 95)) == pytest.approx(0.58, abs=0.03)
    with pytest.warns(UserWarning, match="outside"):
        assert composition_for_molarity(17.98, 96) == Composition(31, 65)
    assert composition_for_molarity(0.56, 96) == Composition(1, 95)


def test_box_length_gives_the_correlated_density():
    composition = Composition(11, 85)
    length = cubic_box_length_A(composition)
    mass_kg = composition.mass_g_per_mol / AVOGADRO / 1000
    density = mass_kg / (length * 1e-10) ** 3
    assert density == pytest.approx(koh_density_kg_per_m3(composition.koh_mass_percent), rel=1e-9)


def test_box_has_the_composition_no_overlaps_and_is_reproducible():
    composition = Composition(3, 12)
    length = cubic_box_length_A(composition)
    a = build_box(composition, length, seed=3)
    b = build_box(composition, length, seed=3)
    c = build_box(composition, length, seed=4)
    assert a.get_chemical_formula() == "H27K3O15"
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
        build_box(Composition(5, 30), 6.0, seed=1, attempts_per_molecule=50)


def test_molarity_must_be_positive():
    with pytest.raises(BoxError, match="positive"):
        composition_for_molarity(0.0, 96)
