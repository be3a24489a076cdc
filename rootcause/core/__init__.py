"""Domain types shared by every layer: runs, samples, deployments, errors."""
