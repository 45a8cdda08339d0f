"""The fake ``pynvml``: put this directory first on ``PYTHONPATH`` (see ``pynvml.py``)."""
