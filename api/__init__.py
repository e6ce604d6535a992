"""The jobmatch service: FastAPI app, web pages, CLI and scheduler wiring.

Importing the package sets how native libraries use threads, before numpy loads them:
OpenBLAS's threads otherwise spin for up to 2^28 cycles (about 0.1 s here) after every
matrix product before they sleep, taking a core from the thread that goes on working (a
batch ranking builds one block's matches while the next block's product runs; a request
renders while another one ranks). Measured on the batch benchmark: 1.76x the raw product
instead of 2.3x, with a quarter less CPU. A value already set in the environment wins.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # the shortest spin OpenBLAS allows
