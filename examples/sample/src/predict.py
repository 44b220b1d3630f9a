import json


def predict(x):
    """Runs the tiny linear model."""
    return sum(x)
