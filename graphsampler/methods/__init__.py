"""graphsampler.methods."""
