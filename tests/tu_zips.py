"""Synthetic TU datasets in the official zip layout, shared by tests/data/test_tu.py,
tests/data/test_mirror.py and the command line's tests."""
import zipfile
from pathlib import Path

import torch

# Three small undirected graphs (1-based global node ids, as in the TU files).
GRAPHS = [
    [(1, 2), (2, 3), (3, 1), (3, 4)],  # triangle with a tail: degrees 2, 2, 3, 1
    [(5, 6)],  # a single edge
    [(7, 8), (7, 9), (7, 10), (7, 11), (8, 9)],  # star-ish: node 7 has degree 4
]
NODE_GRAPH = [1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3]
LABELS = [1, -1, 1]
TINY_STATS = {"graphs": 3, "classes": 2, "avg_nodes": 11 / 3, "avg_edges": 10 / 3,
              "node_labels": False, "source": "test"}


def _tu_files(name: str, node_labels: bool = False) -> dict[str, str]:
    a = [f"{u}, {v}" for edges in GRAPHS for u, v in edges]
    a += [f"{v}, {u}" for edges in GRAPHS for u, v in edges]
    files = {
        f"{name}_A.txt": "\n".join(a) + "\n",
        f"{name}_graph_indicator.txt": "\n".join(map(str, NODE_GRAPH)) + "\n",
        f"{name}_graph_labels.txt": "\n".join(map(str, LABELS)) + "\n",
    }
    if node_labels:
        files[f"{name}_node_labels.txt"] = "\n".join(str(i % 3) for i in range(11)) + "\n"
    return files


def _write_zip(path: Path, entries: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, text in entries.items():
            archive.writestr(entry, text)
    return path


def _tiny_zip(path: Path, name: str = "TINY", node_labels: bool = False) -> Path:
    files = _tu_files(name, node_labels)
    return _write_zip(path, {f"{name}/{f}": text for f, text in files.items()})


def _files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


def random_tu_zip(path, name, num_graphs=40, seed=0, attributes=False):
    r"""A TU-format zip of ``num_graphs`` random graphs in two classes (rings and stars)."""
    gen = torch.Generator().manual_seed(seed)
    edges, indicator, labels, offset = [], [], [], 0
    for g in range(num_graphs):
        n = int(torch.randint(4, 9, (1,), generator=gen))
        pairs = [(i, (i + 1) % n) for i in range(n)] if g % 2 else [(0, i) for i in range(1, n)]
        edges += [(offset + u + 1, offset + v + 1) for u, v in pairs]
        edges += [(offset + v + 1, offset + u + 1) for u, v in pairs]
        indicator += [g + 1] * n
        labels.append(g % 2)
        offset += n
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/{name}_A.txt",
                         "\n".join(f"{u}, {v}" for u, v in edges) + "\n")
        archive.writestr(f"{name}/{name}_graph_indicator.txt",
                         "\n".join(map(str, indicator)) + "\n")
        archive.writestr(f"{name}/{name}_graph_labels.txt", "\n".join(map(str, labels)) + "\n")
        if attributes:  # two per node
            archive.writestr(f"{name}/{name}_node_attributes.txt",
                             "\n".join(f"{i % 7 / 7:.3f}, {g}" for i, g in
                                       enumerate(indicator)) + "\n")
    return path
