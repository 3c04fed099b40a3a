"""Synthetic TU datasets in the official zip layout, shared by tests/data/test_tu.py and
tests/data/test_mirror.py."""
import zipfile
from pathlib import Path

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
