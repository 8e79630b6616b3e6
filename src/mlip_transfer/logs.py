"""Logging set-up shared by the workflow scripts: everything, warnings and the error that ends a job
included, goes to the rule's log."""

import logging
import sys


def log_to(path: str) -> logging.Logger:
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.captureWarnings(True)
    log = logging.getLogger("mlip_transfer")

    def log_uncaught(kind, error, traceback):
        log.error("%s: %s", kind.__name__, error, exc_info=(kind, error, traceback))
        sys.__excepthook__(kind, error, traceback)

    sys.excepthook = log_uncaught
    return log
