r"""The proximity graph: each instance links to its ``k`` most similar among ``M`` random ones."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphsampler.samplers._checks import check_int, check_twin_threshold

#: Anchors that share one candidate draw. Each anchor's candidates are still a uniform
#: draw; sharing turns the scoring of a group into one matrix product instead of a
#: gather of ``M`` rows per anchor (the published code's cost).
ANCHORS_PER_DRAW = 64

#: Default bound on the working memory of one chunk of anchors (bytes).
DEFAULT_MEMORY_BUDGET = 256 * 2**20


def draw_candidates(num_groups: int, num_items: int, num_candidates: int,
                    generator: torch.Generator | None = None,
                    device: torch.device | str | None = None) -> Tensor:
    r"""Draws ``num_groups`` uniform random subsets of ``[0, N)``, ``M`` distinct each.

    Returns:
        torch.Tensor: Shape :obj:`[num_groups, M]`, int64, sorted within each row.
    """
    if 2 * num_candidates > num_items:  # dense regime: exact sampling without replacement
        keys = torch.rand(num_groups, num_items, generator=generator, device=device)
        return keys.topk(num_candidates, dim=1).indices.sort(dim=1).values
    # Sparse regime: draw with replacement, then redraw duplicates until none is left.
    # The procedure is symmetric in the labels, so each row is a uniform M-subset.
    cand = torch.randint(num_items, (num_groups, num_candidates), generator=generator,
                         device=device)
    while True:
        cand = cand.sort(dim=1).values
        dup = torch.zeros_like(cand, dtype=torch.bool)
        dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
        num_dup = int(dup.sum())
        if num_dup == 0:
            return cand
        cand[dup] = torch.randint(num_items, (num_dup,), generator=generator, device=device)


#: The score a twin gets: below every cosine similarity, above the anchor's own ``-inf``.
TWIN_SCORE = -2.0


def _demote_twins(scores: Tensor, twin_threshold: float | None) -> Tensor:
    r"""Sets the cosine scores at or above ``twin_threshold`` to :data:`TWIN_SCORE`."""
    if twin_threshold is not None:
        scores.masked_fill_(scores >= twin_threshold, TWIN_SCORE)
    return scores


def build_proximity_graph(
    embeddings: Tensor,
    num_neighbors: int,
    num_candidates: int,
    *,
    generator: torch.Generator | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    return_candidates: bool = False,
    twin_threshold: float | None = None,
    neighbor_offset: int = 0,
) -> Tensor | tuple[Tensor, Tensor]:
    r"""Builds the directed proximity graph of BatchSampler (Yang et al., KDD 2023).

    For each anchor :math:`i`, draw :math:`M` = ``num_candidates`` distinct candidates
    uniformly from :math:`[0, N)`, score them by cosine similarity to :math:`i`, and keep
    the top :math:`k` = ``num_neighbors`` (never :math:`i` itself) as :math:`i`'s
    out-neighbours. :math:`M \geq N` gives the exact :math:`k`-nearest-neighbour graph.
    Small :math:`M` gives nearly uniform neighbours (easy negatives); large :math:`M`
    gives the nearest ones (hard negatives, and more false negatives).

    Anchors are processed in chunks whose working memory stays under ``memory_budget``
    bytes, on the device of ``embeddings``; :data:`ANCHORS_PER_DRAW` consecutive anchors
    share one candidate draw so a group is scored with one batched matrix product.

    Args:
        embeddings (torch.Tensor): Bank rows, shape :obj:`[N, d]`, finite.
        num_neighbors (int): Out-degree :math:`k`, with :math:`1 \leq k < \min(M, N)`.
        num_candidates (int): Candidates :math:`M` drawn per anchor (:math:`M \geq N`:
            every other instance).
        generator (torch.Generator, optional): Source of randomness, on the device of
            ``embeddings``.
        memory_budget (int): Bytes of scratch memory one chunk may use.
        twin_threshold (float, optional): Candidates whose cosine similarity to the
            anchor is at least this are its twins (the same instance to the encoder):
            they rank below every other candidate, so an anchor links to a twin only
            when it has fewer than :math:`k` other candidates. (default: :obj:`None`)
        neighbor_offset (int): :math:`p`: skip each anchor's :math:`p` most similar
            candidates and link its ranks :math:`[p, p + k)` (rank 0 the most similar;
            :math:`p + k < M`), so that the nearest, the likeliest false negatives, are
            left out. (default: :obj:`0`, the top :math:`k`)
        return_candidates (bool): Also return the candidate draw, shape
            :obj:`[ceil(N / ANCHORS_PER_DRAW), M]` (row :obj:`g` serves anchors
            :obj:`g * ANCHORS_PER_DRAW ...`); when :math:`M \geq N`, one row holding
            every instance.

    Returns:
        torch.Tensor: Neighbour table, shape :obj:`[N, k]`, int64 (a row's order carries
        no meaning: the walk picks among its columns uniformly).

    Example:
        >>> emb = torch.randn(1000, 16)
        >>> nbr = build_proximity_graph(emb, num_neighbors=10, num_candidates=100)
        >>> nbr.shape
        torch.Size([1000, 10])
    """
    if not isinstance(embeddings, Tensor) or embeddings.dim() != 2:
        raise ValueError("embeddings must be a 2-D tensor [N, d]")
    n, d = embeddings.shape
    check_int(num_candidates, "num_candidates", 1)
    offset = check_int(neighbor_offset, "neighbor_offset", 0)
    exact = num_candidates >= n
    pool = n - 1 if exact else num_candidates - 1  # candidates left once the anchor is out
    if isinstance(num_neighbors, int) and not isinstance(num_neighbors, bool) and \
            num_neighbors + offset > pool:
        if offset == 0:
            raise ValueError(
                f"num_neighbors={num_neighbors} must be smaller than num_candidates="
                f"{num_candidates} and than the number of instances N={n}: lower "
                "num_neighbors or raise num_candidates"
            )
        raise ValueError(
            f"neighbor_offset + num_neighbors = {offset} + {num_neighbors} must be smaller "
            f"than num_candidates={num_candidates} and than the number of instances N={n}: "
            "lower them or raise num_candidates"
        )
    check_int(num_neighbors, "num_neighbors", 1)
    check_int(memory_budget, "memory_budget", 1)
    twin_threshold = check_twin_threshold(twin_threshold)
    if not torch.isfinite(embeddings).all():
        raise ValueError("embeddings contain NaN or Inf; cannot rank neighbours")

    device = embeddings.device
    emb = F.normalize(embeddings.float(), dim=1)
    out = torch.empty(n, num_neighbors, dtype=torch.long, device=device)
    width = n if exact else num_candidates
    # per anchor: scores [width] float32, top-k values and indices, its row; the [M, d]
    # candidate rows are shared by a group
    per_anchor = 4 * width + 16 * num_neighbors + 4 * d
    if not exact:  # a group's candidate rows [M, d], ids and draw keys, shared by its anchors
        keys = n if 2 * num_candidates > n else num_candidates
        per_anchor += -(-((4 * d + 16) * num_candidates + 4 * keys) // ANCHORS_PER_DRAW)
    chunk = max(1, memory_budget // per_anchor)
    drawn: list[Tensor] = []
    if exact:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            scores = _demote_twins(emb[start:stop] @ emb.T, twin_threshold)
            rows = torch.arange(stop - start, device=device)
            scores[rows, rows + start] = float("-inf")
            out[start:stop] = _ranks(scores, num_neighbors, offset, dim=1)
        if return_candidates:
            return out, torch.arange(n, device=device)[None]
        return out

    group = ANCHORS_PER_DRAW
    chunk = max(group, chunk - chunk % group)  # whole groups per chunk
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        num_groups = -(-(stop - start) // group)
        pad = num_groups * group - (stop - start)
        cand = draw_candidates(num_groups, n, num_candidates, generator, device)  # [g, M]
        anchor_rows = F.pad(emb[start:stop], (0, 0, 0, pad)).view(num_groups, group, d)
        # [g, M, group]: candidate rows on the left keep the gathered block contiguous
        scores = _demote_twins(torch.bmm(emb[cand], anchor_rows.transpose(1, 2)),
                               twin_threshold)
        # an anchor drawn among its own candidates: find it in the sorted draw, mask it
        anchors = torch.arange(start, start + num_groups * group, device=device)
        anchors = anchors.view(num_groups, group)
        pos = torch.searchsorted(cand, anchors).clamp(max=num_candidates - 1)
        hit = cand.gather(1, pos) == anchors  # [g, group]
        g_idx, a_idx = hit.nonzero(as_tuple=True)
        scores[g_idx, pos[g_idx, a_idx], a_idx] = float("-inf")
        top = _ranks(scores, num_neighbors, offset, dim=1)  # [g, k, group]
        nbr = cand.gather(1, top.flatten(1)).view(num_groups, num_neighbors, group)
        nbr = nbr.transpose(1, 2).reshape(num_groups * group, num_neighbors)
        out[start:stop] = nbr[: stop - start]
        if return_candidates:
            drawn.append(cand)
    if return_candidates:
        return out, torch.cat(drawn)
    return out


def _ranks(scores: Tensor, k: int, offset: int, dim: int) -> Tensor:
    r"""Indices of the ranks ``[offset, offset + k)`` of ``scores`` along ``dim``."""
    if offset == 0:
        return scores.topk(k, dim=dim, sorted=False).indices
    return scores.topk(offset + k, dim=dim, sorted=True).indices.narrow(dim, offset, k)


def twin_groups(embeddings: Tensor, threshold: float, *,
                memory_budget: int = DEFAULT_MEMORY_BUDGET) -> Tensor:
    r"""Labels every instance by the first instance it is a twin of.

    Instance :math:`i` gets the smallest :math:`j` with
    :math:`\cos(e_i, e_j) \geq` ``threshold`` (:math:`j \leq i`, since :math:`i` is its
    own twin). Instances the encoder cannot tell apart (1-WL-equivalent graphs under a
    GIN, whose embeddings agree up to rounding) share a label. All :math:`N^2`
    similarities are scored, in chunks of anchors under ``memory_budget`` bytes.

    Args:
        embeddings (torch.Tensor): Bank rows, shape :obj:`[N, d]`, finite.
        threshold (float): Cosine similarity in :math:`(-1, 1]` at and above which two
            instances are twins.
        memory_budget (int): Bytes of scratch memory one chunk may use.

    Returns:
        torch.Tensor: Group labels, shape :obj:`[N]`, int64, each an instance index.

    Example:
        >>> emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
        >>> twin_groups(emb, 0.999)
        tensor([0, 1, 0, 1])
    """
    if not isinstance(embeddings, Tensor) or embeddings.dim() != 2:
        raise ValueError("embeddings must be a 2-D tensor [N, d]")
    if check_twin_threshold(threshold, "threshold") is None:
        raise ValueError("threshold must be a cosine similarity in (-1, 1], got None")
    check_int(memory_budget, "memory_budget", 1)
    n = embeddings.size(0)
    emb = F.normalize(embeddings.float(), dim=1)
    chunk = max(1, memory_budget // (5 * max(n, 1)))  # float32 scores and a bool mask
    labels = torch.empty(n, dtype=torch.long, device=embeddings.device)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        twins = (emb[start:stop] @ emb.T) >= threshold
        rows = torch.arange(stop - start, device=emb.device)
        twins[rows, rows + start] = True  # rounding never makes an instance its own stranger
        labels[start:stop] = twins.to(torch.uint8).argmax(dim=1)  # the first True
    return labels

