"""rootcause: find out why a language model picked up a pathology during RL training."""

__version__ = "0.1.0"
