"""Uncertainty of errors measured on the frames of one trajectory, which are correlated in time.

Per-frame errors of an MD trajectory follow its slowly changing configuration (ion pairs, H-bond
network), so resampling frames one by one (the i.i.d. bootstrap) understates the uncertainty of a force
RMSE. Here frames are resampled in contiguous blocks (the circular block bootstrap, Politis & Romano
1992) whose length follows from the integrated autocorrelation time of the per-frame squared error
(Sokal's automatic window), and the bootstrap spread is corrected for the two known biases of a finite
block (the lags it cuts off, Bartlett-weighted, and the sample-mean centring; Künsch 1989).

An interval is estimate ± t·se with a Student t quantile whose degrees of freedom count the independent
blocks (and, for a spread over training seeds, the seeds), combined by Welch–Satterthwaite: with few
blocks or seeds the interval widens rather than claiming a precision the data cannot give. For a positive
quantity (an RMSE) the interval is taken on the log scale, so that no bound falls below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BLOCK_LENGTH_IN_CORRELATION_TIMES = 5.0  # longer blocks: smaller bias, fewer blocks (noisier se)
SOKAL_WINDOW = 5.0  # sum the autocorrelation up to the first lag M ≥ 5 τ(M)
CONFIDENCE = 0.95
MIN_RELIABLE_BLOCKS = 10  # fewer independent blocks: the standard error itself is too uncertain to quote


def autocorrelation(series: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation ρ(k), k = 0 … n−1, of a 1-D series (FFT, zero-padded; ρ(0) = 1)."""
    x = np.asarray(series, dtype=float) - np.mean(series)
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    acov = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    return acov / acov[0] if acov[0] > 0 else np.eye(1, n).ravel()


def integrated_autocorrelation_time(series: np.ndarray) -> tuple[float, int]:
    """τ_int = 1 + 2 Σ_{k=1..M} ρ(k) in frames (1 for independent frames), with Sokal's window M: the first
    lag with M ≥ 5 τ_int(M). Returns (τ_int, M)."""
    rho = autocorrelation(series)
    if len(rho) < 3:
        return 1.0, 0
    tau = 1.0 + 2.0 * np.cumsum(rho[1:])
    lags = np.arange(1, len(rho))
    window = int(np.argmax(lags >= SOKAL_WINDOW * tau)) if np.any(lags >= SOKAL_WINDOW * tau) else len(rho) - 2
    return max(float(tau[window]), 1.0), window + 1


@dataclass(frozen=True)
class CorrelationTime:
    """How correlated one test set's per-frame errors are: τ_int (frames), its block length and the
    variance correction of a circular block bootstrap with it."""

    n_frames: int
    tau_frames: float
    block_length: int
    variance_factor: float  # true / block-bootstrap variance (≥ 1) from the same autocorrelation; NaN: one block

    @property
    def n_blocks(self) -> int:
        """Independent blocks in the test set: what the frame part of an uncertainty rests on."""
        return max(self.n_frames // self.block_length, 1)

    @classmethod
    def of(cls, series: Sequence[np.ndarray]) -> CorrelationTime:
        """From several per-frame series on the same frames (e.g. every model on one test set): the
        longest τ_int sets the block length, so that one resampling serves every series (paired)."""
        arrays = [np.asarray(s, dtype=float) for s in series]
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ValueError("series on one test set must have the same frames")
        tau, window, slowest = 1.0, 0, arrays[0]
        for a in arrays:
            t, w = integrated_autocorrelation_time(a)
            if t > tau:
                tau, window, slowest = t, w, a
        block = int(min(max(np.ceil(BLOCK_LENGTH_IN_CORRELATION_TIMES * tau), 1), n))
        # circular block bootstrap variance ≈ σ²/n · (Σ_{|k|<b}(1−|k|/b) ρ(k) − b τ/n): the Bartlett-weighted
        # lags inside a block, less what centring on the sample mean removes; the truth is σ²/n · τ.
        rho = autocorrelation(slowest)
        lags = np.arange(1, block)
        captured = 1.0 + 2.0 * np.sum((1 - lags / block) * np.where(lags <= window, rho[lags], 0.0))
        captured -= block * tau / n
        # a single block (a test set shorter than a few correlation times) carries no frame uncertainty at all
        factor = max(tau / captured, 1.0) if captured > 0 and n // block >= 2 else np.nan
        return cls(n, tau, block, float(factor))

    def resample(self, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
        """Frame indices (n_resamples × n_frames) of circular block-bootstrap samples."""
        n, b = self.n_frames, self.block_length
        starts = rng.integers(0, n, size=(n_resamples, -(-n // b)))
        return ((starts[:, :, None] + np.arange(b)) % n).reshape(n_resamples, -1)[:, :n]


def t_quantile(dof: float) -> float:
    """Two-sided ``CONFIDENCE`` quantile of Student's t (normal for infinite dof)."""
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) if np.isfinite(dof) else float(stats.norm.ppf(0.975))


def combine(se_frames: float, dof_frames: float, se_seeds: float, dof_seeds: float) -> tuple[float, float]:
    """Standard error and Welch–Satterthwaite degrees of freedom of the sum of two independent parts (the
    test frames' and the training seeds'); a part with zero error contributes nothing; an unknown (NaN) part,
    or one with an error but no degree of freedom (one block of test frames), makes the sum unknown."""
    if (
        np.isnan(se_frames)
        or np.isnan(se_seeds)
        or any(se > 0 and not dof > 0 for se, dof in ((se_frames, dof_frames), (se_seeds, dof_seeds)))
    ):
        return np.nan, np.nan
    parts = [(se, dof) for se, dof in ((se_frames, dof_frames), (se_seeds, dof_seeds)) if se > 0 and dof > 0]
    if not parts:
        return 0.0, np.inf
    se = float(np.sqrt(sum(s**2 for s, _ in parts)))
    dof = se**4 / sum(s**4 / d for s, d in parts)
    return se, float(dof)


def interval(estimate: float, se: float, dof: float, positive: bool = False) -> tuple[float, float]:
    """``CONFIDENCE`` interval: estimate ± t·se; for a ``positive`` quantity (an RMSE, a ratio of RMSEs) the
    same interval on the log scale, estimate ·/÷ exp(t·se/estimate) (the delta method), which never crosses
    zero and equals the symmetric one where se ≪ estimate."""
    half = t_quantile(dof) * se
    if positive and estimate > 0:
        factor = float(np.exp(half / estimate))
        return estimate / factor, estimate * factor
    return estimate - half, estimate + half
