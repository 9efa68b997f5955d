r"""The linear algebra of WMMSE beamforming: sparse sums over the edges as CSR products,
and the exact v-step with its per-transmitter power constraint.

Iterative MISO baselines need, per iteration, the interference at every receiver and the
:math:`N_t \times N_t` matrix of every transmitter (:class:`OuterOperator`), then one
small constrained least-squares problem per transmitter (:func:`v_step`), solved through
an eigendecomposition (:func:`hermitian_eigh`) and a monotone Newton search on the
multiplier of its power constraint.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from pyg_aggnn.wireless import miso

__all__: list[str] = []

#: Most Newton iterations on the multiplier of the power constraint; the search stops
#: once no multiplier moves by more than :data:`_RESOLUTION` of itself (a multiplier far
#: above the smallest eigenvalue converges in a few steps, one near a tiny eigenvalue
#: whose component is tiny in about a dozen).
NEWTON_STEPS = 40
_RESOLUTION = 1e-15


def hermitian_eigh(matrix: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending, ``>= 0``) and eigenvectors of PSD ``[n, N_t, N_t]`` matrices.

    Closed forms for ``N_t <= 2`` (batched LAPACK calls on millions of 2 x 2 matrices
    cost more than the rest of an iteration), :func:`torch.linalg.eigh` above.
    """
    size = matrix.size(-1)
    if size == 1:
        return matrix[..., 0, 0].real.clamp_min(0)[..., None], torch.ones_like(matrix)
    if size > 2:
        values, vectors = torch.linalg.eigh(matrix)
        return values.clamp_min(0), vectors
    a, d, b = matrix[..., 0, 0].real, matrix[..., 1, 1].real, matrix[..., 0, 1]
    half, mean = 0.5 * (a - d), 0.5 * (a + d)
    radius = torch.sqrt(half.square() + miso._abs2(b))
    # eigenvector of the larger eigenvalue, from whichever form does not cancel
    first = torch.where(half >= 0, (radius + half).to(b.dtype), b)
    second = torch.where(half >= 0, b.conj(), (radius - half).to(b.dtype))
    norm = torch.sqrt(miso._abs2(first) + miso._abs2(second))
    scalar = norm == 0  # a multiple of the identity: any basis
    norm = torch.where(scalar, 1.0, norm)
    x = torch.where(scalar, 0.0, first / norm) + scalar.to(b.dtype)
    y = torch.where(scalar, 0.0, second / norm)
    top = torch.stack([x, y], dim=-1)  # [n, 2]
    low = torch.stack([-y.conj(), x.conj()], dim=-1)  # orthogonal to top
    vectors = torch.stack([low, top], dim=-1)  # columns, ascending eigenvalues
    values = torch.stack([mean - radius, mean + radius], dim=-1).clamp_min(0)
    return values, vectors


def _row_pointers(rows: Tensor, num_rows: int, per_entry: int) -> Tensor:
    """CSR row pointers ``[num_rows + 1]`` of entries in ``rows``, each repeated
    ``per_entry`` times.
    """
    counts = torch.bincount(rows, minlength=num_rows) * per_entry
    crow = torch.zeros(num_rows + 1, dtype=torch.long, device=rows.device)
    crow[1:] = torch.cumsum(counts, 0)
    return crow


def _csr(crow: Tensor, col: Tensor, values: Tensor, num_rows: int, num_cols: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            crow, col, values, size=(num_rows, num_cols), check_invariants=False
        )


class OuterOperator:
    r"""The two sparse sums of an iteration as CSR products.

    With :math:`M_e = h_e h_e^H` for every present (edge, slot) pair ``tx -> rx``:

    .. math::
        I_k = \sum_{e: rx_e = k} v_{tx_e}^H M_e v_{tx_e}, \qquad
        A_k = \sum_{e: tx_e = k} c_{rx_e} M_e,

    both linear in the :math:`N_t^2` real numbers of :math:`M_e` (the real diagonal,
    real and imaginary parts above it). One CSR matrix holds them side by side
    (rows ``rx``, column block ``b`` of ``tx``), its transpose the other way, so each sum
    is a single sparse product: no per-edge temporaries in the iterations.
    """

    def __init__(self, channel: Tensor, tx: Tensor, rx: Tensor, size: int):
        antennas = channel.size(-1)
        self.size, self.antennas = size, antennas
        self.upper = torch.triu_indices(antennas, antennas, 1, device=channel.device)
        outer = channel[:, :, None] * channel[:, None, :].conj()  # [Q, N_t, N_t]
        diagonal = outer.diagonal(dim1=1, dim2=2).real  # [Q, N_t]
        above = outer[:, self.upper[0], self.upper[1]]  # [Q, N_t (N_t - 1) / 2]
        blocks = torch.cat([diagonal, above.real, above.imag], dim=1)  # [Q, N_t^2]
        count = blocks.size(1)
        self.count = count
        # CSR built directly from sorted keys (a generic coalesce of Q N_t^2 entries
        # costs more than all the iterations)
        by_rx = torch.argsort(rx, stable=True)
        cols = (tx[by_rx, None] + torch.arange(count, device=tx.device) * size).reshape(-1)
        crow = _row_pointers(rx, size, count)
        self.gather = _csr(crow, cols, blocks[by_rx].reshape(-1), size, count * size)
        by_tx = torch.argsort(tx, stable=True)
        spread_crow = _row_pointers(tx, size, 1)
        spread_crow = torch.cat(
            [spread_crow[:-1] + b * tx.numel() for b in range(count)]
            + [spread_crow[-1:] + (count - 1) * tx.numel()]
        )
        self.spread = _csr(
            spread_crow, rx[by_tx].repeat(count), blocks[by_tx].t().reshape(-1), count * size, size
        )

    def interference(self, v: Tensor) -> Tensor:
        """:math:`I_k` of beamformers ``v [n, N_t]``, ``[n]``."""
        pair = v[:, self.upper[0]].conj() * v[:, self.upper[1]]  # conj(v_a) v_b, a < b
        x = torch.cat([miso._abs2(v), 2 * pair.real, -2 * pair.imag], dim=1)  # [n, N_t^2]
        return (self.gather @ x.t().reshape(-1, 1))[:, 0]

    def transmit_side(self, c: Tensor) -> Tensor:
        """:math:`A_k` of weights ``c [n]``, ``[n, N_t, N_t]`` complex."""
        blocks = (self.spread @ c[:, None]).reshape(self.count, self.size).t()  # [n, N_t^2]
        n, antennas = self.size, self.antennas
        pairs = self.upper.size(1)
        real = blocks[:, antennas : antennas + pairs]
        imag = blocks[:, antennas + pairs :]
        dtype = torch.complex64 if c.dtype == torch.float32 else torch.complex128
        matrix = torch.zeros(n, antennas, antennas, dtype=dtype, device=c.device)
        idx = torch.arange(antennas, device=c.device)
        matrix[:, idx, idx] = blocks[:, :antennas].to(dtype)
        above = torch.complex(real, imag)
        matrix[:, self.upper[0], self.upper[1]] = above
        matrix[:, self.upper[1], self.upper[0]] = above.conj()
        return matrix


def v_step(matrix: Tensor, target: Tensor, cap: Tensor, steps: int = NEWTON_STEPS) -> Tensor:
    r"""Exact minimiser of :math:`v^H A v - 2\,\mathrm{Re}(b^H v)` s.t. :math:`\|v\|^2 \le P`.

    :math:`v(\mu) = (A + \mu I)^{-1} b` with :math:`\mu = 0` if that fits, else the
    :math:`\mu > 0` with :math:`\|v(\mu)\|^2 = P`. With :math:`A = U \Lambda U^H` and
    :math:`z = U^H b`, :math:`\|v(\mu)\|^2 = \sum_n |z_n|^2 / (\lambda_n + \mu)^2`; the
    multiplier solves :math:`\phi(\mu) = 1 / \|v(\mu)\| = 1 / \sqrt{P}` by Newton's
    method (at most ``steps`` iterations), from the lower bound
    :math:`\max_n (|z_n| / \sqrt{P} - \lambda_n)`. :math:`\phi` is concave and
    increasing (Moré and Sorensen, 1983), so the iterates rise monotonically to the root
    without overshooting it, quadratically once close (exact in one step for
    :math:`N_t = 1`); the result is rescaled onto the sphere so that the constraint holds
    to rounding.
    """
    values, vectors = hermitian_eigh(matrix)  # [n, N_t], [n, N_t, N_t]
    z = (vectors.conj() * target[..., :, None]).sum(-2)  # U^H b, [n, N_t]
    z2 = miso._abs2(z)
    # antenna-major copies: the sums over antennas run over contiguous rows
    z2_rows, value_rows = z2.t().contiguous(), values.t().contiguous()

    def moments(mu: Tensor) -> tuple[Tensor, Tensor]:
        # 0 / 0 where an eigenvalue and its component both vanish: contributes nothing
        inverse = torch.reciprocal(value_rows + mu)
        second = (z2_rows * inverse.square()).nan_to_num_(nan=0.0)
        third = (second * inverse).nan_to_num_(nan=0.0)
        return second.sum(0), third.sum(0)  # ||v||^2 and sum |z|^2 / (lambda + mu)^3

    zero = torch.zeros_like(cap)
    over = moments(zero)[0] > cap  # includes inf (a singular A with b outside its range)
    mu = zero
    if bool(over.any()):
        # one term alone: |z_n|^2 / (lambda_n + mu)^2 <= P at the root, a lower bound
        low = (z2_rows.sqrt() / cap.sqrt() - value_rows).amax(0).clamp_min(0.0)
        mu = torch.where(over, low, zero)
        target_phi = cap.rsqrt()
        for _ in range(steps):
            second, third = moments(mu)
            phi = second.rsqrt()
            slope = third * phi.pow(3)  # d phi / d mu
            step = torch.where(over & (slope > 0), (target_phi - phi) / slope, 0.0)
            step = step.nan_to_num_(nan=0.0).clamp_min_(0.0)
            mu = mu + step
            # one read-back per iteration: typically 5 to 12 until the steps vanish
            if not bool((step > _RESOLUTION * mu).any()):
                break
    scaled = torch.div(z, (values + mu[:, None]).to(z.dtype)).nan_to_num_(nan=0.0)
    v = (vectors * scaled[..., None, :]).sum(-1)  # U diag(.) z, [n, N_t]
    norm2 = miso._abs2(v).sum(-1)
    fix = torch.where(over & (norm2 > 0), (cap / norm2).sqrt(), 1.0)
    return v * fix[:, None].to(v.dtype)
