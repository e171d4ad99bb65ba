from __future__ import annotations

import logging
from pathlib import Path

from app.logging_setup import REDACTED, redact, register_secret, setup_logging


def test_redacts_shapes_and_registered_secrets(tmp_path: Path) -> None:
    path = setup_logging(tmp_path)
    register_secret("cg-demo-SECRETKEY123")
    log = logging.getLogger("test.redact")
    key = "ab" * 32
    log.warning("got %s and %s", key, "header cg-demo-SECRETKEY123")
    try:
        raise ValueError("zoo " * 11 + "wrong")
    except ValueError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert key not in text and "SECRETKEY123" not in text and "zoo zoo" not in text
    assert text.count(REDACTED) >= 3
    assert redact("nothing secret") == "nothing secret"
