"""Start-up benchmark: process start to the first painted main window.

Runs ``python -m app`` with a data directory holding a few wallets (already migrated), and
measures the wall time from spawning the process to the window reporting its first paint
(CHAINFOLIO_STARTUP_PROBE). The baseline, measured in the same run, is a bare PySide6 script
that shows and paints an empty QMainWindow: the floor that Python + Qt alone cost.

Usage: .venv/bin/python tests/benchmarks/startup.py [--runs 7] [--platform offscreen|xcb]
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = r"""
import sys
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
class W(QMainWindow):
    done = False
    def event(self, e):
        r = super().event(e)
        if not self.done and e.type() == QEvent.Type.UpdateRequest:
            self.done = True
            print("first-paint", flush=True)
            QTimer.singleShot(0, app.quit)
        return r
w = W(); w.resize(1000, 640); w.show()
app.exec()
"""


def time_to_paint(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "first-paint":
            elapsed = time.perf_counter() - start
            break
    else:
        raise RuntimeError(f"{cmd} exited without painting")
    proc.wait(timeout=30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Byte-code cached as an installed app has it (outside the work tree): a
        # PYTHONDONTWRITEBYTECODE in this shell would otherwise make every run compile the
        # app's modules (~0.15 s), as tests/benchmarks/evm_refresh.py does too.
        env = dict(os.environ, QT_QPA_PLATFORM=args.platform, CHAINFOLIO_STARTUP_PROBE="1",
                   PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "chainfolio-bench-pycache"))  # fmt: skip
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [sys.executable, "-m", "app", "--data-dir", tmp]
        for address in (
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
        ):
            subprocess.run([*cli, "wallets", "add", address], check=True, capture_output=True)
        time_to_paint(cli, env)  # warm the OS file cache once for both
        time_to_paint([sys.executable, "-c", BASELINE], env)
        app_runs = [time_to_paint(cli, env) for _ in range(args.runs)]
        base_runs = [time_to_paint([sys.executable, "-c", BASELINE], env) for _ in range(args.runs)]
    app_median = statistics.median(app_runs)
    base_median = statistics.median(base_runs)
    print(
        json.dumps(
            {
                "benchmark": "startup_to_first_paint",
                "platform": args.platform,
                "runs": args.runs,
                "app_median_s": round(app_median, 3),
                "app_all_s": [round(x, 3) for x in app_runs],
                "baseline_bare_qt_median_s": round(base_median, 3),
                "ratio_to_baseline": round(app_median / base_median, 2),
                "target_s": 1.5,
                "meets_target": app_median < 1.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
