"""Logging set-up shared by the workflow scripts: everything, warnings included, goes to the rule's log."""

import logging


def log_to(path: str) -> logging.Logger:
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.captureWarnings(True)
    return logging.getLogger("mlip_transfer")
