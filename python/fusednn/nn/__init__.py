"""Neural-network layers (``fusednn.nn``), PyTorch names with Keras conveniences (Dense, trainable,
count_params), and ``fusednn.nn.functional`` / ``fusednn.nn.init``."""
from . import functional, init, regularizers, utils
from .layers import (ELU, GELU, BatchNorm1d, Dense, Dropout, Embedding, Flatten, Identity, LayerNorm, LeakyReLU,
                     Linear, LogSoftmax, ReLU, Sequential, SiLU, Sigmoid, Softmax, Softplus, Tanh)
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Dense", "Sequential", "Identity", "ReLU", "LeakyReLU", "ELU", "GELU",
           "SiLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "LogSoftmax", "Dropout", "LayerNorm", "BatchNorm1d",
           "Embedding", "Flatten", "functional", "init", "regularizers", "utils"]
