"""Data tools (``fnn.data``): datasets and the DataLoader, train/test and k-fold splits, preprocessing
(scalers, normalize, one_hot) and dataset loaders that never download (scikit-learn's bundled sets,
MNIST IDX files, CSV, npz)."""
from .dataset import Dataset, Subset, TensorDataset
from .datasets import (Bunch, load_breast_cancer, load_csv, load_diabetes, load_digits, load_iris, load_mnist,
                       load_npz, read_idx)
from .loader import DataLoader, default_collate
from .preprocessing import MinMaxScaler, StandardScaler, normalize, one_hot
from .split import KFold, StratifiedKFold, cross_validate, train_test_split

__all__ = ["Dataset", "Subset", "TensorDataset", "DataLoader", "default_collate",
           "KFold", "StratifiedKFold", "cross_validate", "train_test_split",
           "MinMaxScaler", "StandardScaler", "normalize", "one_hot",
           "Bunch", "load_breast_cancer", "load_csv", "load_diabetes", "load_digits", "load_iris", "load_mnist",
           "load_npz", "read_idx"]
