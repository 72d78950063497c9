"""A PostgreSQL restart met by a read, not only by commit(), is told as "retry when it is back"
(exit 2, one line), however eventsourcing or SQLAlchemy wrapped the driver's error."""
from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy.exc
from eventsourcing.persistence import OperationalError as ESOperationalError

from huifang.cli import main as cli_main
from huifang.core.errors import StoreUnavailable

SHUTDOWN = "terminating connection due to administrator command"


def _wrapped_by_eventsourcing() -> BaseException:
    try:
        try:
            raise psycopg.errors.AdminShutdown(SHUTDOWN)
        except psycopg.Error as e:
            raise ESOperationalError(e) from e
    except ESOperationalError as outer:
        return outer


def _wrapped_by_sqlalchemy() -> BaseException:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError(SHUTDOWN))


def message_for(e: BaseException) -> str | None:
    found = StoreUnavailable.behind(e)
    return None if found is None else str(found)


def test_the_driver_error_is_found_behind_either_wrapper():
    assert message_for(_wrapped_by_eventsourcing()) == \
        f"the store is unavailable ({SHUTDOWN}); retry when it is back"
    assert message_for(_wrapped_by_sqlalchemy()) == message_for(_wrapped_by_eventsourcing())
    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.Error:
            raise RuntimeError("while reading the follow-up")  # noqa: B904 - the implicit __context__ is the point
    except RuntimeError as e:
        assert "closed" in str(message_for(e))


def test_a_sqlite_or_programming_error_is_not_a_server_restart():
    assert message_for(sqlite3.OperationalError("no such table: followups")) is None
    assert message_for(psycopg.errors.UndefinedTable("relation does not exist")) is None
    assert message_for(ValueError("bad")) is None


@pytest.mark.parametrize("make", [_wrapped_by_eventsourcing, _wrapped_by_sqlalchemy])
def test_the_cli_says_retry_in_one_line_with_exit_2(make, monkeypatch, capsys):
    def read_fails(*a, **k):
        raise make()

    monkeypatch.setattr(cli_main.cli, "main", read_fails)
    monkeypatch.delenv("HUIFANG_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ex:
        cli_main.main(["queue"])
    err = capsys.readouterr().err
    assert ex.value.code == 2
    assert err == f"huifang: error: the store is unavailable ({SHUTDOWN}); retry when it is back\n"
    assert "internal error" not in err and "Traceback" not in err


def test_a_save_that_met_it_says_nothing_was_written_and_the_api_answers_503():
    from huifang.service.app import status_of

    e = StoreUnavailable(psycopg.OperationalError("connection refused\nIs the server running?"))
    assert str(e) == "the store is unavailable (connection refused); nothing was written: retry when it is back"
    assert status_of(e) == 503 and e.exit_code == 2


def test_the_workspace_shows_it_as_an_error_to_retry_not_an_internal_one():
    from huifang.cli.workspace import error_text

    text = error_text(_wrapped_by_eventsourcing())
    assert text == f"错误: the store is unavailable ({SHUTDOWN}); retry when it is back"


def test_a_server_that_refuses_is_said_at_once_with_its_reason_not_planned_with_the_defaults(tmp_path, monkeypatch,
                                                                                              capsys):
    """The first contact (reading the config recorded at init) used to swallow a refused connection:
    the command went on with ./huifang.toml or the defaults, and if the server came back within the
    pool's wait it planned with the wrong settings."""
    from huifang.core.config_files import locate_config
    from huifang.core.errors import HuifangError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "huifang.toml").write_text("[medical]\n", encoding="utf-8")  # not the store's recorded file
    url = "postgresql://huifang:huifang@127.0.0.1:1/huifang"  # nothing listens on port 1
    with pytest.raises(HuifangError) as ex:
        locate_config(None, db=url)
    assert ex.value.field == "db" and "retry when it is back" in str(ex.value)
    assert "port 1 failed" in str(ex.value)  # psycopg's own reason: "connection to server at ..., port 1 failed: ..."
    monkeypatch.delenv("HUIFANG_DEBUG", raising=False)
    with pytest.raises(SystemExit) as code:
        cli_main.main(["--db", url, "subject", "add", "P1", "--name", "张三"])
    err = capsys.readouterr().err
    assert code.value.code == 2 and err.count("\n") == 1 and err.startswith("huifang: error: --db: cannot open the store")
    assert "port 1 failed" in err and "couldn't get a connection" not in err  # the reason, not the pool's wait
