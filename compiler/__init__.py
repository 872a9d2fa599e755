"""mlgitops: a declarative GitOps compiler for ML systems."""

__version__ = "0.1.0"
