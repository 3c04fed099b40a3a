import random

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset
from torch_geometric.loader import DataLoader

from graphsampler.data import copies as copies_module
from graphsampler.data.copies import (
    attach_copy_ids,
    copy_summary,
    dataset_copy_ids,
    dataset_copy_summary,
)
from graphsampler.data.isomorphism import (
    isomorphism_classes,
    node_labels,
    wl_buckets,
    wl_colors,
)


def _collate(graphs: list[nx.Graph]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Global edge_index [2, E] (both directions), labels [n] and ptr [G + 1]."""
    edges, labels, ptr = [], [], [0]
    for graph in graphs:
        nodes = sorted(graph.nodes)
        pos = {v: ptr[-1] + i for i, v in enumerate(nodes)}
        for u, v in graph.edges:
            edges += [(pos[u], pos[v]), (pos[v], pos[u])]
        labels += [graph.nodes[v].get("label", 0) for v in nodes]
        ptr.append(ptr[-1] + len(nodes))
    edge_index = torch.tensor(edges, dtype=torch.long).reshape(-1, 2).T
    return edge_index, torch.tensor(labels, dtype=torch.long), torch.tensor(ptr)


def _random_graphs(seed: int, count: int = 60, num_labels: int = 2) -> list[nx.Graph]:
    r"""Small random labelled graphs, with relabelled (permuted) copies among them."""
    rng = random.Random(seed)
    graphs = []
    for _ in range(count):
        if graphs and rng.random() < 0.4:  # a copy of an earlier graph, nodes shuffled
            source = rng.choice(graphs)
            perm = list(source.nodes)
            rng.shuffle(perm)
            graphs.append(nx.relabel_nodes(source, dict(zip(source.nodes, perm))))
            continue
        n = rng.randint(1, 7)
        graph = nx.gnp_random_graph(n, rng.choice([0.2, 0.4, 0.6]), seed=rng.randrange(2**31))
        for v in graph.nodes:
            graph.nodes[v]["label"] = rng.randrange(num_labels)
        graphs.append(graph)
    return graphs


def _oracle_classes(graphs: list[nx.Graph]) -> list[int]:
    r"""Each graph's smallest isomorphic index, by pairwise networkx VF2 checks."""
    match = nx.algorithms.isomorphism.categorical_node_match("label", 0)
    out = []
    for i, graph in enumerate(graphs):
        out.append(next(j for j in range(i + 1)
                        if nx.is_isomorphic(graphs[j], graph, node_match=match)))
    return out


def _wl_hash(graph: nx.Graph, attr: str | None = "label") -> tuple[int, str]:
    # 2n rounds decide 1-WL equivalence between graphs of n nodes; the count keys it
    n = graph.number_of_nodes()
    for v in graph.nodes:
        graph.nodes[v]["wl"] = str(graph.nodes[v].get("label", 0))
    return n, nx.weisfeiler_lehman_graph_hash(graph, node_attr="wl" if attr else None,
                                              iterations=max(1, 2 * n))


def _partition(keys: list) -> list[int]:
    first: dict = {}
    return [first.setdefault(key, i) for i, key in enumerate(keys)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_isomorphism_classes_match_networkx_on_random_graphs(seed):
    graphs = _random_graphs(seed)
    edge_index, labels, ptr = _collate(graphs)
    assert isomorphism_classes(edge_index, labels, ptr).tolist() == _oracle_classes(graphs)
    # without labels, graphs that differ only in labels become copies
    unlabelled = [nx.Graph(g.edges) if g.number_of_edges() else nx.empty_graph(len(g))
                  for g in graphs]
    for graph, source in zip(unlabelled, graphs):
        graph.add_nodes_from(source.nodes)
    edge_index, _, ptr = _collate(unlabelled)
    ids = isomorphism_classes(edge_index, torch.zeros(int(ptr[-1]), dtype=torch.long), ptr)
    assert ids.tolist() == _oracle_classes(unlabelled)


@pytest.mark.parametrize("seed", [0, 1])
def test_wl_buckets_match_networkx_wl_hash(seed):
    graphs = _random_graphs(seed, num_labels=3)
    edge_index, labels, ptr = _collate(graphs)
    expected = _partition([_wl_hash(g) for g in graphs])
    assert wl_buckets(edge_index, labels, ptr).tolist() == expected


def test_wl_equivalent_non_isomorphic_graphs_split_only_when_small():
    # a 6-cycle and two triangles: both 2-regular on 6 nodes, 1-WL cannot tell them apart
    graphs = [nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)),
              nx.cycle_graph(6)]
    assert _wl_hash(graphs[0]) == _wl_hash(graphs[1])
    edge_index, labels, ptr = _collate(graphs)
    assert wl_buckets(edge_index, labels, ptr).tolist() == [0, 0, 0]
    assert isomorphism_classes(edge_index, labels, ptr).tolist() == [0, 1, 0]
    # the rule: buckets with a graph above exact_max_nodes stay 1-WL classes
    assert isomorphism_classes(edge_index, labels, ptr, exact_max_nodes=5).tolist() == [0, 0, 0]
    assert isomorphism_classes(edge_index, labels, ptr, exact_max_nodes=0).tolist() == [0, 0, 0]


def test_wl_colors_refine_to_the_stable_colouring():
    path = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # path 0-1-2-3
    colors = wl_colors(path, torch.zeros(4, dtype=torch.long))
    assert colors[0] == colors[3] and colors[1] == colors[2] and colors[0] != colors[1]
    # labels refine: a labelled end breaks the symmetry all the way through
    colors = wl_colors(path, torch.tensor([1, 0, 0, 0]))
    assert colors.unique().numel() == 4
    assert wl_colors(torch.zeros(2, 0, dtype=torch.long),
                     torch.zeros(0, dtype=torch.long)).numel() == 0


def test_node_labels_from_features():
    one_hot = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    labels = node_labels(one_hot, 3)
    assert labels[0] == labels[2] and labels[0] != labels[1]
    assert node_labels(torch.ones(4, 1), 4).tolist() == [0, 0, 0, 0]  # constant: none
    assert node_labels(None, 2).tolist() == [0, 0]
    with pytest.raises(ValueError, match=r"^x has 3 rows but there are 4 nodes$"):
        node_labels(one_hot, 4)


def test_bad_arguments_are_refused():
    edge_index, labels, ptr = _collate([nx.path_graph(3)])
    with pytest.raises(ValueError, match=r"^exact_max_nodes must be an int >= 0, got -1$"):
        isomorphism_classes(edge_index, labels, ptr, exact_max_nodes=-1)
    with pytest.raises(ValueError, match=r"exact_max_nodes must be an int >= 0, got True"):
        isomorphism_classes(edge_index, labels, ptr, exact_max_nodes=True)
    with pytest.raises(ValueError, match=r"^ptr must run from 0 to the number of nodes "
                                         r"\(3\), shape \[G \+ 1\]; got \[0, 2\]$"):
        isomorphism_classes(edge_index, labels, torch.tensor([0, 2]))


class _Graphs(InMemoryDataset):
    def __init__(self, graphs: list[Data]) -> None:
        super().__init__(None)
        self._data, self.slices = self.collate(graphs)


def _tiny_dataset(extra_edge: bool = False) -> _Graphs:
    path = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    star = torch.tensor([[0, 1, 0, 2], [1, 0, 2, 0]])  # the same path, centre 0
    tri = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    x = torch.ones(3, 1)
    graphs = [Data(x=x, edge_index=path, y=torch.tensor([0])),
              Data(x=x, edge_index=tri if extra_edge else star, y=torch.tensor([1])),
              Data(x=x, edge_index=tri, y=torch.tensor([1]))]
    return _Graphs(graphs)


def test_dataset_copy_ids_are_cached_beside_and_keyed_by_the_graphs(tmp_path, monkeypatch):
    ids = dataset_copy_ids(_tiny_dataset(), cache_dir=tmp_path)
    assert ids.tolist() == [0, 0, 2]
    assert len(list(tmp_path.glob("copy_ids_*.pt"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(copies_module, "isomorphism_classes", fail)
    assert dataset_copy_ids(_tiny_dataset(), cache_dir=tmp_path).tolist() == [0, 0, 2]
    with pytest.raises(AssertionError, match="recomputed"):  # other graphs: other key
        dataset_copy_ids(_tiny_dataset(extra_edge=True), cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="recomputed"):  # another rule: other key
        dataset_copy_ids(_tiny_dataset(), cache_dir=tmp_path, exact_max_nodes=0)


def test_a_dataset_without_root_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dataset_copy_ids(_tiny_dataset()).tolist() == [0, 0, 2]
    assert list(tmp_path.rglob("*")) == []


def test_dataset_copy_ids_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match=r"^dataset must be a torch_geometric "
                                         r"InMemoryDataset with collated edge_index "
                                         r"\(e.g. a TUDataset\), got list$"):
        dataset_copy_ids([Data()])
    with pytest.raises(ValueError, match=r"^dataset is a view \(an index or a slice"):
        dataset_copy_ids(_tiny_dataset()[:2])
    with pytest.raises(ValueError, match=r"^dataset is a view"):  # a shuffle: same length
        dataset_copy_ids(_tiny_dataset()[torch.tensor([2, 0, 1])])


def test_dataset_copy_summary(tmp_path):
    # classes {0, 1} (labels 0 and 1) and {2}: two of three right at best
    assert dataset_copy_summary(_tiny_dataset(), cache_dir=tmp_path) == pytest.approx(
        {"copy_share": 2 / 3, "largest_group": 2, "ceiling_accuracy": 200 / 3})


def test_attach_copy_ids_gives_batches_their_ids(tmp_path):
    ds = attach_copy_ids(_tiny_dataset(), cache_dir=tmp_path)
    assert ds[1].copy_id.tolist() == [0]
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch.copy_id.tolist() == [0, 0, 2]


def _summary_by_loops(ids: list[int], y: list[int]) -> dict:
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(ids):
        groups.setdefault(g, []).append(y[i])
    in_copy = sum(len(m) for m in groups.values() if len(m) >= 2)
    right = sum(max(m.count(c) for c in set(m)) for m in groups.values())
    return {"copy_share": in_copy / len(ids),
            "largest_group": max(len(m) for m in groups.values()),
            "ceiling_accuracy": 100.0 * right / len(ids)}


def test_copy_summary():
    assert copy_summary(torch.tensor([0, 0, 0, 3]), torch.tensor([1, 1, 0, 0])) == \
        {"copy_share": 0.75, "largest_group": 3, "ceiling_accuracy": 75.0}
    rng = random.Random(0)
    for _ in range(20):
        ids = [rng.randrange(12) for _ in range(40)]
        y = [rng.choice([-1, 4, 7]) for _ in range(40)]
        got = copy_summary(torch.tensor(ids), torch.tensor(y))
        assert got == pytest.approx(_summary_by_loops(ids, y))
    with pytest.raises(ValueError, match=r"^copy_ids and y must hold one entry per graph "
                                         r"\(and some\), got 2 and 3$"):
        copy_summary(torch.tensor([0, 1]), torch.tensor([0, 1, 1]))


def _oracle_on_dataset(ds) -> list[int]:
    r"""networkx only: WL hash buckets, split by VF2 against one representative each."""
    match = nx.algorithms.isomorphism.categorical_node_match("label", 0)
    labels = node_labels(ds._data.x, ds._data.x.size(0))
    reps: dict = {}
    out = []
    start = 0
    for i in range(len(ds)):
        data = ds[i]
        graph = nx.Graph()
        graph.add_nodes_from((v, {"label": int(labels[start + v])})
                             for v in range(data.num_nodes))
        graph.add_edges_from(data.edge_index.T.tolist())
        start += data.num_nodes
        bucket = reps.setdefault(_wl_hash(graph), [])
        rep = next((j for j, h in bucket if nx.is_isomorphic(h, graph, node_match=match)),
                   None)
        if rep is None:
            bucket.append((i, graph))
        out.append(i if rep is None else rep)
    return out


@pytest.mark.parametrize("name,share,largest", [("MUTAG", 24 / 188, 3),
                                                ("IMDB-BINARY", 0.579, 48)])
def test_tu_copies_match_networkx(tu_mirror, tmp_path, name, share, largest):
    from graphsampler.data import load_tu
    ds = load_tu(name, tmp_path, node_features="constant")
    ids = dataset_copy_ids(ds)
    assert ids.tolist() == _oracle_on_dataset(ds)
    summary = copy_summary(ids, ds.y)
    assert summary["copy_share"] == pytest.approx(share)  # IMDB: Ivanov et al. (2019)
    assert summary["largest_group"] == largest
    assert list((tmp_path / name / "processed").glob("copy_ids_*.pt"))
