"""graphsampler.eval: the SVM evaluation protocol and batch-hardness diagnostics."""
from graphsampler.eval.diagnostics import BatchHardness, TrainingCounts
from graphsampler.eval.hardness import batch_hardness
from graphsampler.eval.svm import C_GRID, SVMResult, svm_cv

__all__ = ["BatchHardness", "C_GRID", "SVMResult", "TrainingCounts", "batch_hardness", "svm_cv"]
