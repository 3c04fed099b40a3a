"""graphsampler: hard mini-batches for graph contrastive learning."""
