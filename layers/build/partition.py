"""Generated schematic partition of an outline into cells of given areas around given anchor points.

Method: an area-calibrated power diagram whose sites are relaxed for compactness under anchor
constraints. Cell i is {x : |x - s_i|² - w_i <= |x - s_j|² - w_j for all j}, clipped to the outline.
1. Weights: for fixed sites s the cell areas are the gradient of a concave function of w whose
   Hessian is known in closed form (shared edge length / (2 × site distance)), so a few damped
   Newton steps fit every target area to ~1e-9.
2. Start: one disk per cell, sized by its target area, pushed apart until the disks barely overlap
   while each still holds its anchor. With the disk centres as sites and weights = radius², the
   starting diagram already separates close anchors of small and large units (岳阳, 方松, 中山).
3. Relaxation: each site moves toward its cell's centroid (Lloyd's rule: compact cells). The move
   is first corrected by the smallest amount that keeps every anchor >= 150 m inside its own cell
   to first order (a least-distance problem, solved with NNLS). The anchor-to-edge distances are
   differentiated through the area fit, so the correction accounts for the weights re-balancing.
4. Assembly: all shared edges are built once and noded with the outline, so neighbours share
   identical vertices; a detached clip sliver goes to the neighbour it shares most boundary with,
   and the weights are refitted (islands stay with their power cell). There is no randomness:
   same input, same output, bit for bit.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.optimize import nnls
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from layers.core import settings
from layers.core.errors import PartitionError

__all__ = ["DESIRED_MARGIN_M", "PartitionError", "anchor_margins", "clear_partition_memo", "partition_polygon"]

#: Distance (m) the generator tries to keep between an anchor and the edges of its own cell.
DESIRED_MARGIN_M = 150.0

# Weights are fitted to this relative area error while the sites still move (~1 m of edge shift)...
_RELAX_FIT_TOL = 1e-4
# ...and to this one for the final cells, far below any tolerance a caller would ask for.
_FINAL_FIT_TOL = 1e-9
# Starting layout: disks of this fraction of each cell's equal-area radius.
_DISK_SCALE = 0.7
_DISK_ITER = 300
# Lloyd iterations stop once no site wants to move more than this fraction of its cell's radius.
_CONVERGED_STEP = 0.01
_MAX_RELAX_ITER = 80
# No site moves more than this fraction of its cell's radius per iteration (linearisation holds).
_TRUST = 0.25
# The projection aims this much beyond the desired margin, so small non-linear effects stay inside.
_MARGIN_SLACK = 1.2
# Two sites are kept at least this fraction of the sum of their cells' radii apart.
_SEPARATION = 0.25
# Detached pieces up to these fractions of their cell's target are handed to a neighbour; the
# next, smaller limit is tried if the refit does not settle (see partition_polygon).
_SLIVER_MAX = (0.25, 0.01, 0.0)
# Rounds of refitting after slivers have been handed over, and the area error that ends them.
_SLIVER_ROUNDS = 10
_SLIVER_ACCEPT = 1e-6
# Evaluations kept back for the final fit and sliver rounds.
_FINAL_RESERVE = 60


# --------------------------------------------------------------------------------------------------
# Power diagram (pure Python: 17 sites need ~300 half-plane clips, cheaper than any library call)
# --------------------------------------------------------------------------------------------------
def _clip_convex(verts, labels, nx, ny, c, label):
    """Cut a convex polygon to nx*x + ny*y <= c; labels[k] names the constraint of edge k -> k+1."""
    f = [nx * x + ny * y - c for x, y in verts]
    if max(f) <= 0.0:
        return verts, labels
    if min(f) > 0.0:
        return [], []
    out_v, out_l = [], []
    m = len(verts)
    for k in range(m):
        k1 = k + 1 if k + 1 < m else 0
        fp, fq = f[k], f[k1]
        if fp <= 0.0:
            out_v.append(verts[k])
            out_l.append(labels[k])
            if fq > 0.0:
                t = fp / (fp - fq)
                (px, py), (qx, qy) = verts[k], verts[k1]
                out_v.append((px + t * (qx - px), py + t * (qy - py)))
                out_l.append(label)
        elif fq <= 0.0:
            t = fp / (fp - fq)
            (px, py), (qx, qy) = verts[k], verts[k1]
            out_v.append((px + t * (qx - px), py + t * (qy - py)))
            out_l.append(labels[k])
    return out_v, out_l


def _power_cells(sites: np.ndarray, weights: np.ndarray, half: float):
    """Unclipped power cells inside a square of half-width ``half``: (vertices, edge labels) each.

    An edge label is the index of the neighbouring site, or -1 for the bounding square.
    """
    n = len(sites)
    sq = (sites ** 2).sum(axis=1)
    box = [(-half, -half), (half, -half), (half, half), (-half, half)]
    cells = []
    for i in range(n):
        # Nearest sites first: the polygon shrinks early and later clips are mostly no-ops.
        order = np.argsort(((sites - sites[i]) ** 2).sum(axis=1), kind="stable")
        verts, labels = list(box), [-1, -1, -1, -1]
        xi, yi = sites[i]
        for j in order.tolist():
            if j == i:
                continue
            nx = 2.0 * (sites[j, 0] - xi)
            ny = 2.0 * (sites[j, 1] - yi)
            c = sq[j] - sq[i] - weights[j] + weights[i]
            verts, labels = _clip_convex(verts, labels, nx, ny, c, j)
            if not verts:
                break
        cells.append((verts, labels))
    return cells


@dataclass
class _Diagram:
    """A power diagram clipped to the outline, with what Newton and the site step need."""

    sites: np.ndarray
    weights: np.ndarray
    cells: list
    clipped: np.ndarray      # shapely geometries
    areas: np.ndarray
    edge_len: np.ndarray     # (n, n) length of the shared edge inside the outline
    edge_moment: np.ndarray  # (n, n, 2) first moment (integral of x) of that edge
    hessian: np.ndarray      # (n, n) d area_i / d w_j


class _Problem:
    """Fixed inputs in a local frame (coordinates centred on the outline, for numerical headroom)."""

    def __init__(self, outline: BaseGeometry, anchors: np.ndarray, targets: np.ndarray, max_iter: int):
        minx, miny, maxx, maxy = outline.bounds
        self.origin = np.array([(minx + maxx) / 2.0, (miny + maxy) / 2.0])
        self.span = max(maxx - minx, maxy - miny)
        self.half = 4.0 * self.span
        self.outline = shapely.transform(outline, lambda xy: xy - self.origin)
        # The relaxation only needs areas and centroids: a simplified outline (~33 m on Songjiang)
        # clips faster. Its targets are rescaled to its own area; the final fit uses the exact one.
        self.rough = shapely.simplify(self.outline, 1e-3 * self.span, preserve_topology=True)
        self.rough_targets = targets * (self.rough.area / self.outline.area)
        shapely.prepare(self.rough)
        shapely.prepare(self.outline)
        self.anchors = anchors - self.origin
        self.targets = targets
        self.n = len(targets)
        self.radius = np.sqrt(targets / np.pi)
        self.budget = max_iter
        dist = _pairwise_dist(self.anchors)
        np.fill_diagonal(dist, np.inf)
        # Two anchors d apart cannot both keep more than d/2 (0.35 d × _MARGIN_SLACK stays below
        # that), and a tiny synthetic cell cannot keep 150 m either.
        self.margin = np.minimum(DESIRED_MARGIN_M,
                                 np.minimum(0.25 * np.sqrt(targets), 0.35 * dist.min(axis=1)))

    def evaluate(self, sites: np.ndarray, weights: np.ndarray, outline: BaseGeometry) -> _Diagram:
        self.budget -= 1
        n = self.n
        cells = _power_cells(sites, weights, self.half)
        polys = np.array([shapely.Polygon(v) if len(v) >= 3 else shapely.Polygon() for v, _ in cells])
        # Cells well inside the outline need no overlay (the costly part of an evaluation).
        inner = shapely.contains_properly(outline, polys)
        clipped = polys.copy()
        clipped[~inner] = shapely.intersection(polys[~inner], outline)
        areas = shapely.area(clipped)
        edge_len = np.zeros((n, n))
        edge_moment = np.zeros((n, n, 2))
        # Shared edges inside the outline are read off the clipped boundaries: a boundary segment of
        # cell i lies on the bisector (i, j) iff both of its ends do.
        tol = 1e-7 * self.span
        bounds = shapely.boundary(clipped)
        for i in range(n):
            nbrs = sorted({lab for lab in cells[i][1] if lab >= 0})
            if not nbrs or areas[i] <= 0.0:
                continue
            starts, ends = [], []
            for part in shapely.get_parts(bounds[i]):
                xy = shapely.get_coordinates(part)
                starts.append(xy[:-1])
                ends.append(xy[1:])
            a = np.concatenate(starts)
            b = np.concatenate(ends)
            seglen = np.hypot(*(b - a).T)
            js = np.array(nbrs)
            normal = 2.0 * (sites[js] - sites[i])
            offset = (sites[js] ** 2).sum(axis=1) - (sites[i] ** 2).sum() - weights[js] + weights[i]
            norm = np.hypot(normal[:, 0], normal[:, 1])
            on = (np.abs(a @ normal.T - offset) / norm < tol) & (np.abs(b @ normal.T - offset) / norm < tol)
            lengths = on * seglen[:, None]
            edge_len[i, js] = lengths.sum(axis=0)
            edge_moment[i, js] = (lengths[:, :, None] * (0.5 * (a + b))[:, None, :]).sum(axis=0)
        edge_len = 0.5 * (edge_len + edge_len.T)
        edge_moment = 0.5 * (edge_moment + edge_moment.transpose(1, 0, 2))
        dist = _pairwise_dist(sites)
        np.fill_diagonal(dist, 1.0)
        coupling = edge_len / (2.0 * dist)
        hessian = np.diag(coupling.sum(axis=1)) - coupling
        return _Diagram(sites, weights, cells, clipped, areas, edge_len, edge_moment, hessian)


def _pairwise_dist(p: np.ndarray) -> np.ndarray:
    d = p[:, None, :] - p[None, :, :]
    return np.hypot(d[..., 0], d[..., 1])


def _centroids(geoms: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Centroids of the geometries; ``fallback`` rows for empty ones."""
    out = fallback.copy()
    full = ~shapely.is_empty(geoms)
    out[full] = shapely.get_coordinates(shapely.centroid(geoms[full]))
    return out


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.hypot(v[..., 0], v[..., 1]), 1e-300)[..., None]


# --------------------------------------------------------------------------------------------------
# Weight fit
# --------------------------------------------------------------------------------------------------
def _lift_empty(sites: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Raise weights until every site lies in its own power cell (Newton cannot see empty cells)."""
    w = weights.copy()
    d2 = _pairwise_dist(sites) ** 2
    for _ in range(len(w)):
        need = w[None, :] - d2
        np.fill_diagonal(need, -np.inf)
        low = need.max(axis=1) + 1e-3 * targets / np.pi
        if np.all(w >= low):
            break
        w = np.maximum(w, low)
    return w


def _fit_weights(problem: _Problem, sites, weights, targets, outline, tol) -> tuple[np.ndarray, _Diagram]:
    """Damped Newton on the weights until every relative area error is below ``tol``."""
    w = _lift_empty(sites, weights, targets)
    diag = problem.evaluate(sites, w, outline)
    err = np.abs(diag.areas - targets) / targets
    while err.max() > tol and problem.budget > 0:
        empty = diag.areas <= 0.0
        if empty.any():
            w = w + np.where(empty, targets / np.pi, 0.0)
            diag = problem.evaluate(sites, w, outline)
            err = np.abs(diag.areas - targets) / targets
            continue
        # The Hessian is a graph Laplacian (weights are defined up to a constant): least squares.
        dw = np.linalg.lstsq(diag.hessian, targets - diag.areas, rcond=1e-12)[0]
        step, score = 1.0, float(np.sqrt((err ** 2).sum()))
        for _ in range(12):
            trial = problem.evaluate(sites, w + step * dw, outline)
            trial_err = np.abs(trial.areas - targets) / targets
            if float(np.sqrt((trial_err ** 2).sum())) < score:
                break
            step *= 0.5
        else:
            break
        w, diag, err = w + step * dw, trial, trial_err
    return w, diag


# --------------------------------------------------------------------------------------------------
# Anchor margins and the constrained Lloyd step
# --------------------------------------------------------------------------------------------------
def _bisector_margins(sites: np.ndarray, weights: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """g[i, j]: signed distance of anchor i from bisector (i, j), positive on i's side.

    min_j g[i, j] is the distance from anchor i to the edge of its (unclipped) power cell.
    """
    power = ((anchors[:, None, :] - sites[None, :, :]) ** 2).sum(axis=-1) - weights[None, :]
    dist = _pairwise_dist(sites)
    np.fill_diagonal(dist, 1.0)
    g = (power - np.diag(power)[:, None]) / (2.0 * np.maximum(dist, 1e-300))
    np.fill_diagonal(g, np.inf)
    return g


def _area_site_jacobian(diag: _Diagram) -> np.ndarray:
    """d area_i / d s_j (n, n, 2) at fixed weights.

    Moving s_j sweeps the shared edge (i, j) by (x - s_j)·δ / |s_i - s_j| at each of its points x.
    """
    s, length, moment = diag.sites, diag.edge_len, diag.edge_moment
    n = len(s)
    dist = _pairwise_dist(s)
    np.fill_diagonal(dist, 1.0)
    jac = -(moment - length[:, :, None] * s[None, :, :]) / dist[:, :, None]
    own = ((moment - length[:, :, None] * s[:, None, :]) / dist[:, :, None]).sum(axis=1)
    jac[np.arange(n), np.arange(n)] = own
    return jac


def _margin_gradients(diag: _Diagram, anchors: np.ndarray, pairs: list[tuple[int, int]]):
    """Values and gradients (wrt all site coordinates) of g[i, j], with the areas held at target.

    Holding the areas fixed makes the weights functions of the sites: H dw = -(dA/ds) ds.
    """
    s, w = diag.sites, diag.weights
    n = len(s)
    dw_ds = -np.linalg.pinv(diag.hessian, rcond=1e-10) @ _area_site_jacobian(diag).reshape(n, 2 * n)
    values = np.empty(len(pairs))
    grads = np.zeros((len(pairs), 2 * n))
    for k, (i, j) in enumerate(pairs):
        a = anchors[i]
        sep = s[i] - s[j]
        d = max(math.hypot(sep[0], sep[1]), 1e-300)
        num = ((a - s[j]) ** 2).sum() - w[j] - ((a - s[i]) ** 2).sum() + w[i]
        values[k] = num / (2.0 * d)
        grads[k, 2 * i:2 * i + 2] += (a - s[i]) / d - num / (2.0 * d ** 3) * sep
        grads[k, 2 * j:2 * j + 2] += -(a - s[j]) / d + num / (2.0 * d ** 3) * sep
        grads[k] += (dw_ds[i] - dw_ds[j]) / (2.0 * d)
    return values, grads


def _least_distance(g: np.ndarray, h: np.ndarray) -> np.ndarray | None:
    """Shortest x with g @ x >= h (Lawson & Hanson's reduction to NNLS); None if infeasible."""
    e = np.vstack([g.T, h[None, :]])
    f = np.zeros(e.shape[0])
    f[-1] = 1.0
    u, _ = nnls(e, f, maxiter=50 * e.shape[1] + 200)
    r = e @ u - f
    if abs(r[-1]) < 1e-12:
        return None
    return -r[:-1] / r[-1]


def _disk_layout(problem: _Problem) -> np.ndarray:
    """Starting sites: centres of disks sized like the cells, pushed apart, each holding its anchor.

    Starting at the anchors themselves puts a large cell's site right next to a small neighbour's
    anchor, and the power diagram then places the small cell on the far side of its own site. Disks
    that barely overlap give a power diagram (weights = radius²) whose edges already pass between
    close anchors, in the right order.
    """
    anchors = problem.anchors
    r = _DISK_SCALE * problem.radius
    reach = np.maximum(r - 2.0 * problem.margin, 0.0)
    away = _unit_rows(anchors[:, None, :] - anchors[None, :, :])
    share = r[None, :] ** 2 / (r[:, None] ** 2 + r[None, :] ** 2)   # the smaller disk yields more
    centres = anchors.copy()
    for _ in range(_DISK_ITER):
        d = centres[:, None, :] - centres[None, :, :]
        dist = np.hypot(d[..., 0], d[..., 1])
        direction = np.where((dist > 1e-9 * problem.span)[..., None], _unit_rows(d), away)
        overlap = np.maximum(r[:, None] + r[None, :] - dist, 0.0)
        np.fill_diagonal(overlap, 0.0)
        if overlap.max() < 1e-3 * r.min():
            break
        centres = centres + 0.5 * ((overlap * share)[..., None] * direction).sum(axis=1)
        off = centres - anchors
        length = np.hypot(off[:, 0], off[:, 1])
        scale = np.minimum(1.0, reach / np.maximum(length, 1e-300))
        centres = anchors + off * scale[:, None]
    return centres


def _separation_rows(problem: _Problem, sites: np.ndarray):
    """Linearised "sites i and j stay apart" constraints for pairs that are getting close.

    Sites that come close make their bisector swing wildly with every move, and a pair of sites that
    swaps sides can no longer keep its two anchors apart.
    """
    n = problem.n
    floor = _SEPARATION * (problem.radius[:, None] + problem.radius[None, :])
    dist = _pairwise_dist(sites)
    close = [(int(i), int(j)) for i, j in np.argwhere(dist < 1.5 * floor) if i < j]
    rows = np.zeros((len(close), 2 * n))
    for k, (i, j) in enumerate(close):
        u = (sites[i] - sites[j]) / max(dist[i, j], 1e-300)
        rows[k, 2 * i:2 * i + 2] = u
        rows[k, 2 * j:2 * j + 2] = -u
    values = np.array([dist[i, j] for i, j in close])
    want = np.array([floor[i, j] for i, j in close])
    return values, rows, want


def _relax(problem: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd relaxation of the sites under the anchor constraints; returns (sites, weights)."""
    n, anchors = problem.n, problem.anchors
    sites = _disk_layout(problem)
    weights = (_DISK_SCALE * problem.radius) ** 2
    # Site moves are measured in units of each cell's radius: big cells' sites may move further.
    unit = np.repeat(problem.radius, 2)
    best = (False, -math.inf, sites, weights)  # (feasible, min margin ratio, sites, weights)
    for _ in range(_MAX_RELAX_ITER):
        if problem.budget < _FINAL_RESERVE:
            break
        weights, diag = _fit_weights(problem, sites, weights, problem.rough_targets, problem.rough,
                                     _RELAX_FIT_TOL)
        g = _bisector_margins(sites, weights, anchors)
        ratio = float((g.min(axis=1) / problem.margin).min())
        feasible = ratio >= 1.0
        # Later feasible states are more compact; before feasibility, keep the least violating one.
        if feasible or (not best[0] and ratio > best[1]):
            best = (feasible, ratio, sites.copy(), weights.copy())
        # While some anchor is too close to (or beyond) an edge, only restore feasibility: a Lloyd
        # step that the constraints must then undo would waste the trust region.
        lloyd = _centroids(diag.clipped, sites) - sites if feasible else np.zeros_like(sites)
        step = lloyd
        near = g < 1.5 * problem.margin[:, None] + 0.5 * problem.radius[:, None]
        pairs = [(int(i), int(j)) for i, j in np.argwhere(near)]
        if pairs:
            values, grads = _margin_gradients(diag, anchors, pairs)
            want = _MARGIN_SLACK * problem.margin[[i for i, _ in pairs]]
            sep_values, sep_rows, sep_want = _separation_rows(problem, sites)
            values = np.concatenate([values, sep_values])
            grads = np.vstack([grads, sep_rows])
            want = np.concatenate([want, sep_want])
            correction = _least_distance(grads * unit, want - values - grads @ lloyd.ravel())
            if correction is not None:
                step = lloyd + (correction * unit).reshape(n, 2)
        length = np.hypot(step[:, 0], step[:, 1]) / problem.radius
        if feasible and length.max() < _CONVERGED_STEP:
            break
        sites = sites + step * np.minimum(1.0, _TRUST / np.maximum(length, 1e-300))[:, None]
    return best[2], best[3]


# --------------------------------------------------------------------------------------------------
# Final assembly: one noded edge set, faces, slivers
# --------------------------------------------------------------------------------------------------
def _shared_edges(problem: _Problem, cells) -> list[shapely.LineString]:
    """The power-diagram edges once each, in the caller's coordinates, with merged triple points.

    Neighbouring cells compute the same corner independently (last-bit differences); snapping them
    to one representative makes the edge set consistent before noding.
    """
    verts = np.array([v for c, _ in cells for v in c], dtype=float)
    rep = np.arange(len(verts))
    close = _pairwise_dist(verts) < 1e-7 * problem.span
    for a in range(len(verts)):
        if rep[a] != a:
            continue
        for b in np.flatnonzero(close[a]).tolist():
            if b > a and rep[b] == b:
                rep[b] = a
    start = {}
    pos = 0
    for i, (c, _) in enumerate(cells):
        start[i] = pos
        pos += len(c)
    keys = set()
    for i, (c, labels) in enumerate(cells):
        m = len(c)
        for k, lab in enumerate(labels):
            if lab < 0:
                continue
            a, b = rep[start[i] + k], rep[start[i] + (k + 1) % m]
            if a != b:
                keys.add((min(a, b), max(a, b)))
    glob = verts + problem.origin
    return [shapely.LineString([glob[a], glob[b]]) for a, b in sorted(keys)]


def _assemble(problem: _Problem, outline: BaseGeometry, diag: _Diagram, sliver_max: float):
    """Final cells (caller's CRS) from the exact diagram: faces of the noded edge set, slivers moved.

    Detached pieces up to ``sliver_max`` × their cell's target go to the neighbouring cell they
    share most boundary with. Returns (cells, their areas).
    """
    n = problem.n
    lines = [shapely.boundary(outline)] + _shared_edges(problem, diag.cells)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.unary_union(lines))))
    probe = shapely.get_coordinates(shapely.point_on_surface(faces))
    inside = shapely.contains_xy(outline, probe[:, 0], probe[:, 1])
    faces, probe = faces[inside], probe[inside] - problem.origin
    power = ((probe[:, None, :] - diag.sites[None, :, :]) ** 2).sum(axis=-1) - diag.weights[None, :]
    label = np.argmin(power, axis=1)
    anchors_glob = problem.anchors + problem.origin
    # A cell keeps the face holding its anchor (its largest face if none does: reported later).
    main = np.full(n, -1)
    for i in range(n):
        own = np.flatnonzero(label == i)
        if own.size == 0:
            continue
        hit = [f for f in own.tolist() if shapely.contains_xy(faces[f], *anchors_glob[i])]
        main[i] = hit[0] if hit else int(own[np.argmax(shapely.area(faces[own]))])
    owner = label.copy()
    bounds = shapely.boundary(faces)
    face_area = shapely.area(faces)
    for f in range(len(faces)):
        i = label[f]
        if main[i] == f or face_area[f] > sliver_max * problem.targets[i]:
            continue
        shared = shapely.length(shapely.intersection(bounds[f], bounds))
        shared[label == i] = 0.0
        if shared.max() > 1e-9 * problem.span:
            # Stable argmax: ties go to the lowest face index, i.e. deterministic.
            owner[f] = label[int(np.argmax(shared))]
    cells = []
    for i in range(n):
        mine = faces[owner == i]
        if mine.size == 0:
            cells.append(Polygon())
        elif mine.size == 1:
            cells.append(mine[0])
        else:
            cells.append(shapely.union_all(mine))
    areas = np.array([face_area[owner == i].sum() for i in range(n)])
    return cells, areas


def _as_output(geom: BaseGeometry) -> Polygon | MultiPolygon:
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
def anchor_margins(cells: Sequence[BaseGeometry], anchors: Sequence[Point]) -> list[float]:
    """Signed distance of each anchor to the boundary of its own cell (negative: outside).

    Parameters
    ----------
    cells, anchors : sequences of equal length, same projected CRS.

    Returns
    -------
    list of float
        Metres (in the CRS's unit).
    """
    out = []
    for cell, anchor in zip(cells, anchors, strict=False):
        d = float(shapely.distance(anchor, shapely.boundary(cell))) if not cell.is_empty else -math.inf
        out.append(d if cell.contains(anchor) else -d)
    return out


def _validate(outline, anchors, targets, tolerance) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(outline, (Polygon, MultiPolygon)) or outline.is_empty or not outline.is_valid:
        raise PartitionError("The outline must be a valid, non-empty Polygon or MultiPolygon.")
    if len(anchors) != len(targets) or not anchors:
        raise PartitionError(f"Need one target per anchor and at least one cell; got {len(anchors)} "
                             f"anchors and {len(targets)} targets.")
    if not 0.0 < tolerance < 1.0:
        raise PartitionError(f"tolerance must lie in (0, 1), got {tolerance!r}.")
    pts = np.array([[p.x, p.y] for p in anchors], dtype=float)
    tgt = np.asarray(targets, dtype=float)
    bad = [i for i in range(len(tgt)) if not (np.isfinite(tgt[i]) and tgt[i] > 0.0)]
    if bad:
        raise PartitionError(f"Target areas must be positive and finite; cells {bad} are not: "
                             f"{[float(tgt[i]) for i in bad]}.")
    outside = [i for i, p in enumerate(anchors) if not outline.contains(p)]
    if outside:
        where = ", ".join(f"cell {i} (anchor {outline.boundary.distance(anchors[i]):.1f} m outside)"
                          for i in outside)
        raise PartitionError(f"Every anchor must lie inside the outline; {where}.")
    dist = _pairwise_dist(pts)
    np.fill_diagonal(dist, np.inf)
    twins = sorted({(int(min(i, j)), int(max(i, j)))
                    for i, j in np.argwhere(dist < 1e-6 * math.sqrt(outline.area))})
    if twins:
        raise PartitionError(f"Cells {twins} have the same anchor; each cell needs its own point.")
    mismatch = abs(tgt.sum() - outline.area) / outline.area
    if mismatch > 0.1 * tolerance:
        raise PartitionError(f"Target areas sum to {tgt.sum():.6g} but the outline's area is "
                             f"{outline.area:.6g} (relative mismatch {mismatch:.2%}); scale the targets first.")
    return pts, tgt


def partition_polygon(
    outline: Polygon | MultiPolygon,
    anchors: Sequence[Point],
    targets: Sequence[float],
    *,
    tolerance: float = 0.005,
    max_iter: int = 2000,
) -> list[Polygon | MultiPolygon]:
    """Split ``outline`` into one compact cell per anchor with the given areas (see module docstring).

    Parameters
    ----------
    outline : Polygon or MultiPolygon
        Area to partition, in a projected CRS in metres (EPSG:4549 for Songjiang).
    anchors : sequence of Point
        One reference point per cell, same CRS; each ends up inside its own cell, ~150 m from its
        edges where the anchors' spacing allows (never closer than the outline itself forces).
    targets : sequence of float
        Target area of each cell (m²); they must sum to ``outline.area``.
    tolerance : float
        Largest relative area error accepted for any cell.
    max_iter : int
        Budget of power-diagram evaluations (a typical run uses 100-250).

    Returns
    -------
    list of Polygon or MultiPolygon
        Cells in the order of ``anchors``. They tile the outline exactly: neighbours share identical
        vertices. A cell is a MultiPolygon only where a detached piece could not be handed to a
        neighbour: an island touching no other cell, or a piece whose hand-over keeps the areas from
        settling.

    Raises
    ------
    PartitionError
        Invalid input (an anchor outside the outline, duplicate anchors, targets not summing to the
        outline's area), or the result misses the tolerance or leaves an anchor outside its cell;
        the message names the cells and the size of the failure.
    """
    pts, tgt = _validate(outline, anchors, targets, tolerance)
    if len(tgt) == 1:
        return [outline]
    key = _memo_key(outline, anchors, tgt, tolerance, max_iter)
    cells = _memo_get(key)
    if cells is None:
        cells = _fit(outline, anchors, pts, tgt, tolerance=tolerance, max_iter=max_iter)
        _memo_put(key, cells)
    return list(cells)


def _fit(outline: Polygon | MultiPolygon, anchors: Sequence[Point], pts: np.ndarray, tgt: np.ndarray, *,
         tolerance: float, max_iter: int) -> tuple[Polygon | MultiPolygon, ...]:
    """The fit behind :func:`partition_polygon`, on validated inputs (no memo)."""
    problem = _Problem(outline, pts, tgt, max_iter)
    sites, weights = _relax(problem)

    # Exact outline: refit, build, and refit again while moved slivers shift some areas; the sliver
    # sizes depend only weakly on the weights, so this fixed-point iteration usually contracts fast.
    # A large piece that is detached for one edge position and attached for the next makes it
    # flip-flop instead: then only tiny slivers move, and as a last resort none (exact areas, but a
    # MultiPolygon cell).
    best = None
    for sliver_max in _SLIVER_MAX:
        aim = tgt.copy()
        for _ in range(_SLIVER_ROUNDS):
            weights, diag = _fit_weights(problem, sites, weights, aim, problem.outline, _FINAL_FIT_TOL)
            cells, areas = _assemble(problem, outline, diag, sliver_max)
            worst = float((np.abs(areas - tgt) / tgt).max())
            if best is None or worst < best[0]:
                best = (worst, cells, areas)
            if worst <= _SLIVER_ACCEPT or problem.budget <= 0:
                break
            aim = np.maximum(aim - (areas - tgt), 1e-3 * tgt)
        if best[0] <= 0.2 * tolerance or problem.budget <= 0:
            break
    _, cells, areas = best

    cells = [_as_output(c) for c in cells]
    err = (areas - tgt) / tgt
    failures = [f"cell {i}: area off by {err[i]:+.2%}" for i in np.flatnonzero(np.abs(err) > tolerance)]
    margins = anchor_margins(cells, anchors)
    failures += [f"cell {i}: anchor {abs(m):.1f} m outside its cell" for i, m in enumerate(margins) if m <= 0.0]
    if failures:
        raise PartitionError(f"Schematic partition failed (tolerance {tolerance:.2%}, "
                             f"{max_iter - problem.budget} power-diagram evaluations): {'; '.join(failures)}.")
    return tuple(cells)


# --------------------------------------------------------------------------------------------------
# Memo: the fit is a pure function of its inputs (no randomness, module constants only), and a build
# or an import's refit asks for the same fits again (every claim round of every rebuild, each preview
# and its apply). Keyed by the exact bytes of every input; failures are never stored.
# --------------------------------------------------------------------------------------------------
_memo: OrderedDict[tuple, tuple[Polygon | MultiPolygon, ...]] = OrderedDict()
_memo_lock = threading.Lock()


def _memo_key(outline: BaseGeometry, anchors: Sequence[Point], tgt: np.ndarray, tolerance: float,
              max_iter: int) -> tuple:
    """Every input, exactly: WKB keeps each coordinate's 64 bits, and ``tgt`` is what the fit reads."""
    return (shapely.to_wkb(outline), tuple(shapely.to_wkb(a) for a in anchors), tgt.tobytes(),
            repr(tolerance), repr(max_iter))


def _memo_get(key: tuple) -> tuple[Polygon | MultiPolygon, ...] | None:
    """The memoised cells for ``key``, or None (always None while the memo is off)."""
    if settings.PARTITION_MEMO_SIZE <= 0:
        return None
    with _memo_lock:
        cells = _memo.get(key)
        if cells is not None:
            _memo.move_to_end(key)
        return cells


def _memo_put(key: tuple, cells: tuple[Polygon | MultiPolygon, ...]) -> None:
    """Keep ``cells`` for ``key``, dropping the least recently used fits beyond the memo's size."""
    with _memo_lock:
        _memo[key] = cells  # geometries are immutable: sharing them is safe
        while len(_memo) > max(settings.PARTITION_MEMO_SIZE, 0):
            _memo.popitem(last=False)


def clear_partition_memo() -> None:
    """Forget every memoised fit (tests that time or compare fresh fits)."""
    with _memo_lock:
        _memo.clear()


def polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """The valid polygonal part of an overlay result (lines and points from touching edges dropped)."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if isinstance(p, (Polygon, MultiPolygon))]
    return _as_output(shapely.make_valid(shapely.union_all(parts)))


def _grab(point: Point, cell: BaseGeometry, corridor_m: float, reach_m: float) -> BaseGeometry:
    _, near = nearest_points(point, cell)
    return LineString([point, near]).buffer(corridor_m, cap_style="flat").union(point.buffer(reach_m))


def claim_points(cells: Sequence[BaseGeometry], claims: Sequence[tuple[int, Point]], *,
                 corridor_m: float = 150.0, reach_m: float = 250.0) -> list[Polygon | MultiPolygon]:
    """Hand each claimed point to its cell: a point (index of the cell, point) lying in another cell is joined to
    its own by a corridor (half-width ``corridor_m``) along the shortest path, with a disc of ``reach_m`` around it.

    Land within ``reach_m`` of a point claimed by another cell is never taken. All cells are rebuilt from the
    faces of one noded overlay, so they still tile the outline exactly (shared edges, no gaps or overlaps); a
    detached piece holding no claimed point goes to the neighbour it shares the longest edge with.
    """
    cells = list(cells)
    grabs: list[tuple[int, BaseGeometry]] = []
    for own, point in sorted(claims, key=lambda c: cells[c[0]].distance(c[1])):
        if cells[own].covers(point):
            continue
        grab = _grab(point, cells[own], corridor_m, reach_m)
        others = [p.buffer(reach_m) for i, p in claims if i != own]
        if others:
            grab = grab.difference(shapely.union_all(others))
        grabs.append((own, grab))
    if not grabs:
        return [_as_output(c) for c in cells]
    outline = shapely.union_all(cells)
    lines = shapely.union_all([c.boundary for c in cells] + [g.boundary for _, g in grabs])
    faces = [f for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
             if f.area > 0 and outline.contains(f.representative_point())]
    owner = []
    for face in faces:
        rp = face.representative_point()
        mine = [own for own, g in grabs if g.contains(rp)]
        owner.append(mine[-1] if mine else next(i for i, c in enumerate(cells) if c.covers(rp)))
    out = [shapely.union_all([f for f, o in zip(faces, owner, strict=True) if o == i]) for i in range(len(cells))]
    return _hand_over_detached([polygonal(c) for c in out], claims)


def _hand_over_detached(cells: list[BaseGeometry], claims: Sequence[tuple[int, Point]]) -> list[BaseGeometry]:
    """Give every detached piece that holds none of its cell's claimed points to the neighbour sharing the longest
    edge with it."""
    for i, cell in enumerate(cells):
        if cell.geom_type != "MultiPolygon":
            continue
        mine = [p for j, p in claims if j == i]
        for part in list(cell.geoms):
            if any(part.covers(p) for p in mine):
                continue
            shared = [(part.boundary.intersection(c.boundary).length, j) for j, c in enumerate(cells) if j != i]
            length, j = max(shared)
            if length <= 0:
                continue
            cells[j] = polygonal(shapely.union_all([cells[j], part]))
            cells[i] = polygonal(cells[i].difference(part))
    return [_as_output(c) for c in cells]
