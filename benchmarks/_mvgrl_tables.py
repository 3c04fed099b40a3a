r"""``mvgrl_speed.py``'s markdown tables: the training epochs and the diffusion."""
from __future__ import annotations

from _mvgrl_baselines import BATCH_SIZE, LR, QUOTED_MEMORY, QUOTED_THREADS


def markdown(result: dict) -> list[str]:
    lines = [f"# MVGRL speed and memory ({result['device']}, commit {result['commit'][:12]})",
             ""] + epoch_markdown(result) + [""] + diffusion_markdown(result)
    return lines


def epoch_markdown(result: dict) -> list[str]:
    rows = result["epochs"]
    lines = [f"## Training epoch (MVGRL, uniform batches of {BATCH_SIZE}, lr {LR}, "
             f"{result['threads']} thread; mean of {result['settings']['epochs_timed']} "
             f"timed epochs after a warm-up epoch, "
             f"{result['settings']['padded_epochs_timed']} for the padded model)", "",
             "| dataset | ours fp32 (s/epoch) | ours bf16 (s/epoch) | PyG `GCNConv` "
             "encoders, fp32 | the original's way, padded dense, fp32 | original code, "
             "quoted from issue 4, not measured here |", "|---|---|---|---|---|---|"]
    for r in rows:
        quoted = r.get("quoted_original_epoch_seconds")
        quoted_cell = ("-" if quoted is None else
                       f"{quoted} s: {r['quoted_over_ours']:.1f}x ours fp32, "
                       f"{r['quoted_over_ours_bf16']:.1f}x ours bf16")
        lines.append(
            f"| {r['dataset']} ({r['graphs']:,} graphs, {r['nodes']:,} nodes, padded to "
            f"{r['max_nodes']}) | {r['ours_epoch_seconds']:.3f} | "
            f"{r['ours_bf16_epoch_seconds']:.3f} ({1 / r['ours_bf16_over_ours']:.2f}x "
            f"faster) | {r['pyg_epoch_seconds']:.3f} ({r['pyg_over_ours']:.2f}x ours) | "
            f"{r['padded_epoch_seconds']:.2f} ({r['padded_over_ours']:.1f}x ours fp32, "
            f"{r['padded_over_ours_bf16']:.1f}x ours bf16) | {quoted_cell} |")
    lines += ["", "Memory of ours (MiB; RSS after the first / last timed epoch, range over "
              "epochs, and the peak in the timed epochs):", ""]
    for r in rows:
        for key, label in (("ours", "fp32"), ("ours_bf16", "bf16")):
            peak = r[f"{key}_peak_timed_epochs_mib"]
            rss = r[f"{key}_rss_after_epoch_mib"]
            lines.append(f"- {r['dataset']} {label}: {r[f'{key}_rss_first_mib']:.0f} / "
                         f"{r[f'{key}_rss_last_mib']:.0f} ({min(rss):.0f}-{max(rss):.0f}), "
                         f"peak {'-' if peak is None else f'{peak:.0f}'}")
    diffs = {k: max(r["outputs_max_abs_diff"][k] for r in rows) for k in ("pyg", "padded")}
    lines += ["", f"Before timing, on a batch, the outputs of ours and of each baseline "
              f"(same weights) agreed within 1e-4: max abs diff {diffs['pyg']:.1e} (PyG), "
              f"{diffs['padded']:.1e} (padded, at initialisation). The padded model trains "
              f"{rows[0]['padded_trained_parameters']:,} parameters (the heads) and "
              f"computes but never applies the gradients of its "
              f"{rows[0]['padded_untrained_gcn_parameters']:,} GCN parameters, as the "
              f"original. Quoted from issue 4, not measured here: the original code's "
              f"epochs ({QUOTED_THREADS} thread) and its memory, {QUOTED_MEMORY}."]
    return lines


def diffusion_markdown(result: dict) -> list[str]:
    d = result["diffusion"]
    baselines = result["settings"]["baselines"]
    large = ", ".join(f"{g['nodes']:,}" for g in d["checked_large_graphs"])
    lines = [f"## PPR diffusion of all of {d['dataset']} (alpha {d['alpha']}, top-{d['k']}; "
             f"{d['graphs']:,} graphs, up to {d['max_nodes']:,} nodes; "
             f"{d['blas_threads']} BLAS thread)", "",
             "| | time (s) | baseline / ours: `add_diffusion` | baseline / ours: "
             "compute only | memory |", "|---|---|---|---|---|",
             f"| ours: `add_diffusion` (child process, cache not hit) | {d['seconds']:.2f} "
             f"(compute only {d['compute_seconds']:.2f}) | | | peak "
             f"{d['peak_above_dataset_mib']:.0f} MiB above the loaded dataset (process "
             f"peak {d['process_peak_mib']:.0f} MiB); output {d['output_mib']:.1f} MiB |"]
    names = {"reference": "the steps of MVGRL's `compute_ppr` (networkx, "
                          "`fractional_matrix_power`, 2 matmuls, `inv`), graph by graph",
             "lean": "the same formula, lean dense (`D^-1/2` scaling, one `inv`), "
                     "graph by graph"}
    for i, b in enumerate(baselines):
        memory = (f"kept dense (float64), as the reference's `process`: "
                  f"{d['reference_dense_gib']:.3g} GiB; padded to the largest graph, as "
                  f"its `load`: {d['reference_padded_gib']:.3g} GiB (computed, not "
                  f"allocated)" if i == 0 else "(as above)")
        lines.append(f"| {names[b]} | {d[f'{b}_seconds']:.2f} | {d[f'{b}_speedup']:.2f}x | "
                     f"{d[f'{b}_speedup_compute']:.2f}x | {memory} |")
    lines += ["", f"Peak under 4 GiB (issue 4): {'yes' if d['peak_under_4gib'] else 'NO'}. "
              f"Our output equals the dense matrices of {' and '.join(d['checked_against'])}"
              f" on {d['checked_small_graphs']} graphs of <= {d['k']} nodes (every entry)"
              + (f" and on graphs of {large} nodes (kept entries and every row's top-"
                 f"{d['k']})" if large else "")
              + f"; max abs diff {d['check_max_abs_diff']:.1e}. Loading the cached result: "
              f"{d['cached_load_seconds']:.2f} s."]
    return lines
