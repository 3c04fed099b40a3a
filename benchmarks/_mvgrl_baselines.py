r"""The baselines of ``mvgrl_speed.py``'s epoch part, also counted by ``mvgrl_flops.py``:
MVGRL with PyG's ``GCNConv`` encoders, and MVGRL the original's way (every graph padded
to the dataset's largest as dense matrices, the JSD masks filled in Python loops), both
holding copies of our model's weights; and the settings and quoted figures they share."""
from __future__ import annotations

import copy
import math
import statistics
import time

import torch
from _helpers import MIB, rss_bytes
from torch_geometric.nn import GCNConv, global_add_pool
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphsampler.methods.mvgrl import MVGRL
from graphsampler.nn.gcn import GCNEncoder
from graphsampler.samplers import UniformBatchSampler

BATCH_SIZE, LR = 128, 0.001
# Issue 4's figures for the original MVGRL code: quoted, not measured here.
QUOTED_EPOCH_SECONDS = {"MUTAG": 1.6, "IMDB-BINARY": 42.0}
QUOTED_THREADS = 1
QUOTED_MEMORY = "7.5 GB (growing)"


class PyGGCNEncoder(torch.nn.Module):
    r"""Drop-in for :class:`graphsampler.nn.gcn.GCNEncoder` built from PyG's
    :class:`~torch_geometric.nn.GCNConv` (gather/scatter message passing; with
    ``normalize=True`` every layer recomputes :math:`\hat{D}^{-1/2}(A+I)\hat{D}^{-1/2}`),
    holding copies of the weights and PReLUs of ``ours``."""

    def __init__(self, ours: GCNEncoder) -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList()
        for conv in ours.convs:
            pyg = GCNConv(conv.lin.in_features, conv.lin.out_features,
                          normalize=ours.normalize, add_self_loops=ours.normalize)
            pyg.load_state_dict(conv.state_dict())  # lin.weight, bias: same names
            self.convs.append(pyg)
        self.acts = copy.deepcopy(ours.acts)

    def forward(self, x, edge_index, batch, num_graphs=None, *, edge_weight=None):
        pooled, h = [], x
        for conv, act in zip(self.convs, self.acts):
            h = act(conv(h, edge_index, edge_weight))
            pooled.append(global_add_pool(h, batch, size=num_graphs))
        return h, torch.cat(pooled, dim=1)


def padded_views(dataset) -> dict[str, torch.Tensor]:
    r"""The dataset as the original holds it: features ``[G, n, F]``, the normalised
    adjacency :math:`\hat{D}^{-1/2}(A + I)\hat{D}^{-1/2}` and the diffusion as dense
    ``[G, n, n]`` float32 matrices, every graph padded to the largest, ``n``."""
    sizes = [int(data.num_nodes) for data in dataset]
    n, graphs = max(sizes), len(sizes)
    x = torch.zeros(graphs, n, dataset.num_features)
    adjacency = torch.zeros(graphs, n, n)
    diffusion = torch.zeros(graphs, n, n)
    for g, data in enumerate(dataset):
        k = sizes[g]
        x[g, :k] = data.x
        index, weight = gcn_norm(data.edge_index, None, k, add_self_loops=True)
        adjacency[g].index_put_((index[1], index[0]), weight, accumulate=True)
        diffusion[g].index_put_((data.diff_edge_index[1], data.diff_edge_index[0]),
                                data.diff_edge_weight, accumulate=True)
    return {"x": x, "adjacency": adjacency, "diffusion": diffusion,
            "sizes": torch.tensor(sizes), "max_nodes": n}


class PaddedMVGRL(torch.nn.Module):
    r"""MVGRL the original's way (see the module docstring), with copies of the
    weights of ``ours``. Its GCN layers live in plain lists, so :meth:`parameters`
    (and the optimiser) holds the two heads only, as in the original."""

    def __init__(self, ours: MVGRL) -> None:
        super().__init__()
        self.encoders = [[copy.deepcopy((conv, act)) for conv, act in zip(e.convs, e.acts)]
                         for e in (ours.adjacency, ours.diffusion)]
        self.local_head = copy.deepcopy(ours.local_head)
        self.global_head = copy.deepcopy(ours.global_head)

    @staticmethod
    def _encode(layers, x: torch.Tensor, matrix: torch.Tensor):
        h, sums = x, []
        for conv, act in layers:
            h = act(torch.bmm(matrix, conv.lin(h)) + conv.bias)
            sums.append(h.sum(dim=1))  # padding rows included, as the original
        return h, torch.cat(sums, dim=-1)

    def views(self, padded: dict, idx: torch.Tensor):
        """Local ``[b, n, h]`` and global ``[b, h]`` outputs of both views of the graphs
        ``idx`` of :func:`padded_views`' ``padded``."""
        x = padded["x"][idx]
        l1, g1 = self._encode(self.encoders[0], x, padded["adjacency"][idx])
        l2, g2 = self._encode(self.encoders[1], x, padded["diffusion"][idx])
        return (self.local_head(l1), self.local_head(l2),
                self.global_head(g1), self.global_head(g2))

    def loss(self, padded: dict, idx: torch.Tensor) -> torch.Tensor:
        """The original's training loss on the graphs ``idx``: JSD in both directions."""
        l1, l2, g1, g2 = self.views(padded, idx)
        sizes, n = padded["sizes"][idx], padded["max_nodes"]
        return (loop_masked_jsd(l1.reshape(-1, l1.size(-1)), g2, sizes, n)
                + loop_masked_jsd(l2.reshape(-1, l2.size(-1)), g1, sizes, n))


def loop_masked_jsd(local: torch.Tensor, global_: torch.Tensor, sizes: torch.Tensor,
                    max_nodes: int) -> torch.Tensor:
    r"""The JSD local-global loss over padded rows as the original computes it: the
    positive, negative and padding masks filled one entry at a time in Python, the
    scores multiplied by them."""
    num_graphs, num_nodes = global_.size(0), local.size(0)
    device = local.device
    graph_of_row = torch.arange(num_graphs, device=device).repeat_interleave(max_nodes)
    positive = torch.zeros(num_nodes, num_graphs, device=device)
    negative = torch.ones(num_nodes, num_graphs, device=device)
    keep = torch.ones(num_nodes, num_graphs, device=device)
    for row, graph in enumerate(graph_of_row):
        positive[row][graph] = 1.0
        negative[row][graph] = 0.0
    for graph, size in enumerate(sizes):
        keep[graph * max_nodes + size:(graph + 1) * max_nodes, graph] = 0.0
    scores = local @ global_.t() * keep
    log2 = math.log(2.0)
    e_pos = (log2 - torch.nn.functional.softplus(-(scores * positive))).sum() / num_nodes
    e_neg = (torch.nn.functional.softplus(-(scores * negative)) + scores * negative
             - log2).sum() / (num_nodes * (num_graphs - 1))
    return e_neg - e_pos


def padded_training(model: PaddedMVGRL, padded: dict, epochs: int,
                    device: torch.device) -> dict:
    """One warm-up and ``epochs`` timed epochs of the padded model, uniform batches."""
    model.to(device)
    for layers in model.encoders:
        for conv, act in layers:
            conv.to(device), act.to(device)
    padded = {k: v.to(device) if torch.is_tensor(v) else v for k, v in padded.items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    sampler = UniformBatchSampler(len(padded["sizes"]), BATCH_SIZE, seed=0)
    seconds = []
    for epoch in range(1 + epochs):
        sampler.set_epoch(epoch)
        tic = time.perf_counter()
        for indices in sampler:
            optimizer.zero_grad()
            model.loss(padded, torch.tensor(indices, device=device)).backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - tic)
    return {"epoch_seconds": statistics.mean(seconds[1:]), "epochs": seconds[1:],
            "warmup_seconds": seconds[0], "rss_after_mib": rss_bytes() / MIB,
            "trained_parameters": sum(p.numel() for p in model.parameters()),
            "untrained_gcn_parameters": sum(p.numel() for layers in model.encoders
                                            for conv, act in layers
                                            for p in (*conv.parameters(), *act.parameters()))}
