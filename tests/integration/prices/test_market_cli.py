"""``chainfolio prices history|symbol`` and ``chainfolio fx history`` end to end against local
Stooq and Frankfurter servers, settings set through the CLI."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.prices.fakes import serve_in_thread
from tests.integration.prices.market_fakes import FakeFrankfurter, FakeStooq

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()


def back(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def run(data_dir: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue(), err.getvalue()


def test_prices_history_symbol_and_fx_history(tmp_path: Path) -> None:
    stooq = FakeStooq(closes={"aapl.us": [(back(n), f"{200 + n}.25") for n in range(60, 0, -1)]})
    fx = FakeFrankfurter(rates={back(n): {"EUR": f"0.9{n:02d}"} for n in range(1, 40)})
    with serve_in_thread(stooq) as surl, serve_in_thread(fx) as furl:  # type: ignore[arg-type]
        assert run(tmp_path, "config", "set", "prices.stooq.url", surl)[0] == 0
        assert run(tmp_path, "config", "set", "prices.fx_history.url", furl)[0] == 0

        code, out, _ = run(tmp_path, "prices", "history", "stock:XNAS:AAPL", "--json")
        data = json.loads(out)
        assert code == 0 and data["currency"] == "USD" and data["warnings"] == []
        assert data["closes"][-1] == {"date": back(1), "close": "201.25"}
        assert len(data["closes"]) == 30  # shown: the last 30 days (a year was stored)
        asked = len(stooq.log)
        code, out, _ = run(
            tmp_path, "prices", "history", "stock:XNAS:AAPL", "--from", back(45), "--offline"
        )
        assert code == 0 and len(stooq.log) == asked
        assert f"{back(45)}  245.25" in out and "45 daily close(s) in USD" in out

        code, _, err = run(tmp_path, "prices", "history", "stock:US0378331005")
        assert code == 1 and "ISIN" in err and "prices symbol stock:US0378331005" in err
        code, out, _ = run(tmp_path, "prices", "symbol", "stock:US0378331005", "stooq:aapl.us")
        assert code == 0 and "priced by stooq:aapl.us, closes in USD" in out
        code, out, _ = run(tmp_path, "prices", "history", "stock:US0378331005", "--json")
        assert code == 0 and json.loads(out)["closes"][-1]["close"] == "201.25"
        code, _, err = run(tmp_path, "prices", "symbol", "stock:US0378331005", "stooq:a b")
        assert code == 1 and "is not a Stooq symbol" in err

        code, out, _ = run(tmp_path, "fx", "history", "EUR", "--from", back(10), "--json")
        rates = json.loads(out)
        assert code == 0 and rates["per"] == "USD"
        assert rates["rates"][-1] == {"date": back(1), "rate": "0.901"}
        assert len(rates["rates"]) == 10

        # The rate source now answers with a web page: a warning, the stored rates still shown.
        fx.script = ["html"]
        code, out, _ = run(tmp_path, "fx", "history", "GBP", "--from", back(5))
        assert code == 1 and "warning: The exchange-rate history" in out
        code, out, _ = run(tmp_path, "fx", "history", "EUR", "--from", back(3), "--offline")
        assert code == 0 and f"{back(1)}  0.901" in out

        code, _, err = run(tmp_path, "prices", "stock:XNAS:AAPL")
        assert code == 1 and "chainfolio prices history stock:XNAS:AAPL" in err
        code, _, err = run(tmp_path, "fx", "history", "EURO")
        assert code == 1 and "not an ISO 4217 currency code" in err
        code, _, err = run(tmp_path, "fx", "history", "EUR", "--from", "yesterday")
        assert code == 1 and "is not a date" in err


def test_prices_history_of_the_whole_ledger(tmp_path: Path) -> None:
    stooq = FakeStooq(closes={"sap.de": [(back(2), "110.5")]})
    fx = FakeFrankfurter(rates={back(30): {"EUR": "0.8"}, back(2): {"EUR": "0.9"}})
    with serve_in_thread(stooq) as surl, serve_in_thread(fx) as furl:  # type: ignore[arg-type]
        run(tmp_path, "config", "set", "prices.stooq.url", surl)
        run(tmp_path, "config", "set", "prices.fx_history.url", furl)
        run(tmp_path, "accounts", "add", "Broker", "--kind", "broker")
        code, _, err = run(
            tmp_path, "tx", "add", "--account", "Broker", "--type", "buy", "--asset",
            "stock:XETR:SAP", "--amount", "2", "--price", "100", "--currency", "EUR",
            "--date", back(20),
        )  # fmt: skip
        assert code == 0, err
        code, out, _ = run(tmp_path, "prices", "history", "--json")
        (row,) = json.loads(out)["assets"]
        assert (row["asset"], row["symbol"], row["currency"], row["last_close"]) == (
            "stock:XETR:SAP", "stooq:sap.de", "EUR", "110.5",
        )  # fmt: skip
        assert any(e.query.get("symbols") == "EUR" for e in fx.log)
        code, out, err = run(tmp_path, "pnl", "--json")
        assert code == 0, err
        (holding,) = json.loads(out)["holdings"]
        assert holding["price_source"] == "market"
        assert holding["cost_basis"] == "250"  # 200 EUR at 0.8 EUR per USD, its day's rate
