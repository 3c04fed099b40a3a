r"""Former home of the batch samplers, kept while importers move to
:mod:`graphsampler.samplers` (:mod:`~graphsampler.samplers.base`,
:mod:`~graphsampler.samplers.uniform`, :mod:`~graphsampler.samplers.hard`,
:mod:`~graphsampler.samplers.prosampler`)."""
from graphsampler.samplers.base import BaseBatchSampler, epoch_generator
from graphsampler.samplers.hard import KNNBatchSampler
from graphsampler.samplers.prosampler import ProximityBatchSampler
from graphsampler.samplers.uniform import FixedBatchSampler, UniformBatchSampler

__all__ = ["BaseBatchSampler", "FixedBatchSampler", "KNNBatchSampler",
           "ProximityBatchSampler", "UniformBatchSampler", "epoch_generator"]
