r"""``mvgrl_speed.py``'s diffusion part: :func:`~graphsampler.augment.diffusion.add_diffusion`
over a whole dataset in a child process (time, peak memory) against the steps of MVGRL's
``compute_ppr`` and a lean dense formula, graph by graph, our output checked against
their dense matrices (see ``mvgrl_speed.py``'s docstring)."""
from __future__ import annotations

import json
import os
import tempfile
import time

import networkx as nx
import numpy as np
import torch
from _helpers import MIB, peak_bytes, reset_peak, rss_bytes, run_in_child
from scipy.linalg import fractional_matrix_power, inv
from threadpoolctl import threadpool_limits

from graphsampler.augment.diffusion import add_diffusion
from graphsampler.augment.ppr import ppr_diffusion_graphs
from graphsampler.data import load_tu
from graphsampler.data.prepare import DIFFUSION_ALPHA, DIFFUSION_TOPK

GIB = 2**30
FLOAT64_BYTES = 8
DIFFUSION_PEAK_TARGET = 4 * GIB  # issue 4: "peak memory under 4 GiB" on REDDIT-BINARY
CHECK_SMALL_GRAPHS = 200  # graphs of <= k nodes compared entry by entry
CHECK_LARGE_GRAPHS = 3    # larger graphs compared on their kept entries and top-k


def reference_ppr(graph: nx.Graph, alpha: float = 0.2) -> np.ndarray:
    """The dense PPR matrix computed by the steps of MVGRL's ``compute_ppr``
    (kavehhassani/mvgrl, ``utils.py``; rewritten here, same operations): a float64
    networkx adjacency plus the identity, ``D^-1/2`` as ``fractional_matrix_power`` of
    the dense degree matrix, two dense matrix products and one ``scipy.linalg.inv``."""
    adjacency = nx.to_numpy_array(graph) + np.eye(graph.number_of_nodes())
    inv_sqrt_degree = fractional_matrix_power(np.diag(adjacency.sum(axis=1)), -0.5)
    transition = inv_sqrt_degree @ adjacency @ inv_sqrt_degree
    return alpha * inv(np.eye(len(adjacency)) - (1 - alpha) * transition)


def lean_dense_ppr(edges: np.ndarray, n: int, alpha: float = 0.2) -> np.ndarray:
    """The same matrix, dense float64, without the reference's detours: D^-1/2 as a
    vector scaling and one ``scipy.linalg.inv``."""
    a = np.zeros((n, n))
    a[edges[0], edges[1]] = 1.0
    a[edges[1], edges[0]] = 1.0
    a += np.eye(n)                                                # A^ = A + I_n
    d = a.sum(1) ** -0.5
    at = d[:, None] * a * d[None, :]
    return alpha * inv(np.eye(n) - (1 - alpha) * at)


def _graph_edges(dataset) -> tuple[list[int], list[np.ndarray]]:
    """Every graph's node count and local edges ``[2, E_g]``, from collated storage."""
    node_ptr = dataset.slices["x"].tolist()
    edge_ptr = dataset.slices["edge_index"].tolist()
    edge_index = dataset._data.edge_index.numpy()
    sizes = [node_ptr[g + 1] - node_ptr[g] for g in range(len(node_ptr) - 1)]
    edges = [edge_index[:, edge_ptr[g]:edge_ptr[g + 1]] for g in range(len(sizes))]
    return sizes, edges


def _nx_graph(edges: np.ndarray, n: int) -> nx.Graph:
    """The graph as the reference's networkx graph, nodes numbered as ours (the
    reference's ``from_edgelist`` orders nodes by first appearance: a permutation)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges.T.tolist())
    return graph


def ours_diffusion(name: str, cache_dir: str, threads: int) -> dict:
    """Our diffusion of the whole dataset ``name``, timed, its peak memory read: run in a
    fresh child process (:func:`run_in_child`), with an empty ``cache_dir``."""
    torch.set_num_threads(threads)
    dataset = load_tu(name, node_features="degree")  # as load_mvgrl_dataset
    data_mib = sum(v.numel() * v.element_size() for _, v in dataset._data.items()
                   if torch.is_tensor(v)) / MIB
    assert not os.listdir(cache_dir), "the diffusion cache folder must start empty"
    before = rss_bytes()
    reset = reset_peak()
    tic = time.perf_counter()
    add_diffusion(dataset, alpha=DIFFUSION_ALPHA, sparsify="topk", k=DIFFUSION_TOPK,
                  cache_dir=cache_dir, progress=False)
    seconds = time.perf_counter() - tic
    peak = peak_bytes()
    # The computation alone, as the baselines are timed: add_diffusion's own work
    # (the fingerprint, the per-graph node counts, the cache file) left out.
    num_nodes = dataset.slices["x"].diff()
    tic = time.perf_counter()
    ppr_diffusion_graphs(dataset._data.edge_index, dataset.slices["edge_index"], num_nodes,
                         DIFFUSION_ALPHA, "topk", DIFFUSION_TOPK)
    compute_seconds = time.perf_counter() - tic
    files = os.listdir(cache_dir)
    assert len(files) == 1, f"expected one new cache file (computed, not loaded), got {files}"
    storage = dataset._data
    out_bytes = (storage.diff_edge_index.numel() * storage.diff_edge_index.element_size()
                 + storage.diff_edge_weight.numel() * storage.diff_edge_weight.element_size())
    return {"seconds": seconds, "compute_seconds": compute_seconds,
            "peak_above_dataset_mib": (peak - before) / MIB,
            "process_peak_mib": peak / MIB,
            "rss_before_mib": before / MIB,
            "peak_reset": reset,
            "dataset_tensors_mib": data_mib,
            "output_mib": out_bytes / MIB,
            "output_entries": storage.diff_edge_weight.numel(),
            "cache_file_mib": os.path.getsize(os.path.join(cache_dir, files[0])) / MIB}


def _check_graph(ours_index: torch.Tensor, ours_weight: torch.Tensor, dense: np.ndarray,
                 k: int) -> float:
    """Asserts that our sparse row-wise top-k equals the dense reference matrix: every
    kept entry, and every row's k largest values (so the kept set is a top-k set; ties
    may pick different columns). Returns the largest absolute difference."""
    n = dense.shape[0]
    s = torch.from_numpy(dense)
    ours = torch.zeros(n, n, dtype=torch.float64)
    ours[ours_index[1], ours_index[0]] = ours_weight.double()  # row i = target
    if n <= k:  # nothing dropped: the whole matrix
        torch.testing.assert_close(ours, s, rtol=1e-5, atol=1e-7)
        return float((ours - s).abs().max())
    kept = ours != 0
    torch.testing.assert_close(ours[kept], s[kept], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(ours.topk(k, dim=1).values, s.topk(k, dim=1).values,
                               rtol=1e-5, atol=1e-7)
    return float((ours[kept] - s[kept]).abs().max())


def reference_diffusion(name: str, cache_dir: str, baselines: list[str],
                        threads: int) -> dict:
    """The baselines timed graph by graph, the reference's memory computed, and our
    (cached) output checked against the dense matrices."""
    dataset = load_tu(name, node_features="degree")
    tic = time.perf_counter()
    add_diffusion(dataset, alpha=DIFFUSION_ALPHA, sparsify="topk", k=DIFFUSION_TOPK,
                  cache_dir=cache_dir, progress=False)  # the child's file: a cache hit
    cached_load = time.perf_counter() - tic
    sizes, edges = _graph_edges(dataset)
    order = np.argsort(sizes, kind="stable")
    small = [int(g) for g in order if sizes[g] <= DIFFUSION_TOPK]
    small = small[:: max(1, -(-len(small) // CHECK_SMALL_GRAPHS))]
    large = [int(g) for g in order if sizes[g] > DIFFUSION_TOPK]
    if large:
        large = sorted({large[0], large[len(large) // 2], large[-1]})[:CHECK_LARGE_GRAPHS]
    checked = set(small) | set(large)

    row: dict = {"cached_load_seconds": cached_load}
    dense_for_check: dict[tuple[str, int], np.ndarray] = {}
    with threadpool_limits(limits=threads, user_api="blas"):
        for baseline in baselines:
            seconds = 0.0
            for g, (n, e) in enumerate(zip(sizes, edges)):
                if baseline == "reference":
                    graph = _nx_graph(e, n)  # built outside the timer
                    tic = time.perf_counter()
                    s = reference_ppr(graph, alpha=DIFFUSION_ALPHA)
                else:
                    tic = time.perf_counter()
                    s = lean_dense_ppr(e, n, alpha=DIFFUSION_ALPHA)
                seconds += time.perf_counter() - tic
                if g in checked:
                    dense_for_check[baseline, g] = s
                del s
            row[f"{baseline}_seconds"] = seconds

    max_diff = 0.0
    for baseline, g in sorted(dense_for_check):
        graph = dataset[g]
        max_diff = max(max_diff, _check_graph(graph.diff_edge_index, graph.diff_edge_weight,
                                              dense_for_check[baseline, g], DIFFUSION_TOPK))
    n = np.array(sizes, dtype=np.float64)
    row.update(
        graphs=len(sizes), max_nodes=int(n.max()), mean_nodes=float(n.mean()),
        checked_against=baselines, checked_small_graphs=len(small),
        checked_large_graphs=[{"graph": g, "nodes": sizes[g]} for g in large],
        check_max_abs_diff=max_diff,
        reference_dense_gib=float((n ** 2).sum() * FLOAT64_BYTES / GIB),
        reference_padded_gib=float(len(n) * n.max() ** 2 * FLOAT64_BYTES / GIB))
    return row


def bench_diffusion(name: str, baselines: list[str], threads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mvgrl_speed_") as cache_dir:
        ours = run_in_child(ours_diffusion, name, cache_dir, threads)
        print(json.dumps({"diffusion_ours": ours}), flush=True)
        row = {"dataset": name, "alpha": DIFFUSION_ALPHA, "k": DIFFUSION_TOPK,
               "blas_threads": threads, **ours,
               **reference_diffusion(name, cache_dir, baselines, threads)}
    row["peak_under_4gib"] = row["peak_above_dataset_mib"] * MIB < DIFFUSION_PEAK_TARGET
    for baseline in baselines:
        row[f"{baseline}_speedup"] = row[f"{baseline}_seconds"] / row["seconds"]
        row[f"{baseline}_speedup_compute"] = (row[f"{baseline}_seconds"]
                                              / row["compute_seconds"])
    row["memory_ratio_dense_vs_ours_peak"] = (row["reference_dense_gib"] * GIB
                                              / (row["peak_above_dataset_mib"] * MIB))
    return row
