"""The choices of the static-mixture search (``skillit search``, :mod:`skillit.experiment.mixture_search`), apart
from the search itself so that the command line can show them without importing the trainer."""

FEATURES = ("linear", "log")
MODELS = (*FEATURES, "best-trial")  # what chooses the proposal: a fit on these features, or the lowest trial
SEARCH_SEED = 100  # held out: no shipped config evaluates on it
PRIORS = ("stratified", "random", "natural")  # π: uniform, the pools' example share, their token share
