"""The terminal workspace of `huifang work` (Textual): the operator's queue on the left, the call
sheet of the chosen follow-up on the right, a status line at the bottom.

Keys: ↑/↓ choose, Enter open the call sheet, a record an attempt (outcome from a numbered list),
c fill the survey, t open a ticket, n next call, r refresh, q quit. A form asks one field at a
time (a number picks a choice, Enter confirms, Esc cancels) and shows the answers for review
before saving (y/Enter save, e edit). The queue follows the event log: when its head moves (`tick`,
another operator) the queue is read again.

This module only draws and reads keys; every read and write goes through cli/work_session.Session.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from huifang.core.errors import HuifangError, StoreUnavailable
from huifang.core.labels import label
from huifang.projections.callsheet import render_call_sheet

from .survey_form import Form
from .work_session import POLL_SECONDS, Session

QUEUE_COLUMNS = ("截止", "姓名", "电话", "回访类型", "状态", "次数", "回访单")
KEYS = "↑↓ 选择  Enter 打开回访单  a 记录尝试  c 填写问卷  t 开问题件  n 下一个  r 刷新  q 退出"
STATUS_STYLE = {"overdue": "bold red", "due": "yellow", "planned": "dim"}  # as `huifang queue` colours them


def error_text(e: Exception) -> str:
    """A refusal as the CLI words it (field: message); anything else on one line, never a traceback."""
    if isinstance(e, HuifangError):
        return f"错误: {e}"
    unavailable = StoreUnavailable.behind(e)  # the database restarting under a read: retry, nothing is broken
    if unavailable is not None:
        return f"错误: {unavailable}"
    return f"内部错误 (internal error): {type(e).__name__}: {e}".replace("\n", " ")[:300]


class FormPanel(Vertical):
    """A form under the call sheet, one field at a time, then a review (unless `review` is off); calls
    `done` with the values entered, or None when cancelled (Esc). The sheet stays readable above."""

    BINDINGS = [Binding("escape", "cancel", "取消")]
    can_focus = True  # the review reads y / e / Esc

    def __init__(self) -> None:
        super().__init__(id="form")
        self.form: Form | None = None
        self.review = True
        self.done: Callable[[dict[str, Any] | None], None] | None = None
        self.index = 0
        self.reviewing = False

    def compose(self) -> ComposeResult:
        yield Static(id="form-title", markup=False)
        yield Static(id="say", markup=False)
        yield Static(id="question", markup=False)
        yield Static(id="choices", markup=False)
        yield Input(id="answer")
        yield Static(id="form-error", markup=False)

    def start(self, form: Form, done: Callable[[dict[str, Any] | None], None], review: bool = True) -> None:
        self.form, self.done, self.review = form, done, review
        self.query_one("#form-title", Static).update(form.title)
        self.display = True
        self.show(0)

    def show(self, index: int) -> None:
        """The index-th field still to ask (an answer may bring more: 不满意 -> its reason), or the review."""
        assert self.form is not None
        self.index = index
        answer = self.query_one("#answer", Input)
        self.query_one("#form-error", Static).update("")
        fields = self.form.active()
        if index < len(fields):
            f = fields[index]
            self.reviewing = False
            self.query_one("#say", Static).update(f"「{f.say}」" if f.say else "")
            mark = "（必答）" if f.required else ""
            self.query_one("#question", Static).update(f"{index + 1}/{len(fields)} {f.text}{mark}  [{f.hint()}]")
            self.query_one("#choices", Static).update("\n".join(f.choices()))
            previous = self.form.values.get(f.key)
            answer.value = f.shown(previous) if previous is not None else ""
            answer.display = True
            answer.focus()
            return
        if not self.review:
            self.finish(self.form.answers())
            return
        self.reviewing = True
        answer.display = False
        self.focus()
        self.query_one("#say", Static).update("")
        self.query_one("#question", Static).update("请核对 (review):  y/Enter 保存   e 修改   Esc 放弃")
        self.query_one("#choices", Static).update("\n".join(self.form.review()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        assert self.form is not None
        f = self.form.active()[self.index]
        try:
            self.form.values[f.key] = f.parse(event.value)
        except HuifangError as e:
            self.query_one("#form-error", Static).update(e.message)
            return
        self.show(self.index + 1)

    def on_key(self, event: events.Key) -> None:
        if not self.reviewing:
            return
        event.stop()
        assert self.form is not None
        if event.key in ("y", "enter"):
            self.finish(self.form.answers())
        elif event.key == "e":
            self.show(0)

    def action_cancel(self) -> None:
        self.finish(None)

    def finish(self, values: dict[str, Any] | None) -> None:
        done, self.done, self.form, self.reviewing = self.done, None, None, False
        self.display = False
        if done is not None:
            done(values)


class Workspace(App[None]):
    """The queue, the call sheet and the keys of an operator's working day."""

    TITLE = "回访工作台 huifang work"
    CSS = """
    #queue { width: 3fr; }
    #right { width: 4fr; border-left: solid $accent; }
    #sheet-box { padding: 0 1; }
    #form { height: auto; max-height: 60%; border-top: solid $accent; padding: 0 1; display: none; }
    #form:focus { background: $boost; }
    #form-error { color: $error; }
    #title { height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1; }
    #status { height: 1; background: $boost; padding: 0 1; }
    #keys { height: 1; background: $panel; padding: 0 1; }
    """
    BINDINGS = [
        Binding("a", "attempt", "记录尝试"),
        Binding("c", "complete", "填写问卷"),
        Binding("t", "ticket", "问题件"),
        Binding("n", "next", "下一个"),
        Binding("r", "refresh", "刷新"),
        Binding("q", "quit", "退出"),
    ]

    def __init__(self, session: Session, poll_seconds: float = POLL_SECONDS):
        super().__init__()
        self.session = session
        self.poll_seconds = poll_seconds
        self.rows: list[dict[str, Any]] = []
        self.current: Any = None  # the call sheet shown (projections/callsheet.CallSheet)
        self.seen_head = -1

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE, id="title", markup=False)
        with Horizontal():
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                with VerticalScroll(id="sheet-box"):
                    yield Static("↑/↓ 选择，Enter 打开回访单", id="sheet", markup=False)
                yield FormPanel()
        yield Static(id="status", markup=False)
        yield Static(KEYS, id="keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#queue", DataTable).add_columns(*QUEUE_COLUMNS)
        self.reload()
        self.set_interval(self.poll_seconds, self.poll)

    # -- reading ---------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def poll(self) -> None:
        """Read the queue again when the log moved (`tick`, another operator)."""
        try:
            if self.session.head() != self.seen_head:
                self.reload()
        except Exception as e:  # a busy or lost store: said, the workspace stays up and tries again
            self.say(error_text(e))

    def reload(self) -> None:
        """The queue again, the cursor kept on the same follow-up where it still is in the queue."""
        table = self.query_one("#queue", DataTable)
        keep = self.highlighted()
        try:
            self.rows = self.session.queue()
        except Exception as e:
            self.say(error_text(e))
            return
        index = table.cursor_row
        table.clear()
        for r in self.rows:
            style = STATUS_STYLE.get(r["status"], "")
            due = r["due_text"] + ("（临时）" if r["provisional"] else "")  # provisional: no official calendar yet
            table.add_row(Text(due, style=style if r["status"] == "overdue" else ""), Text(r["name"] or r["subject"]),
                          Text(r["phone"] or "-"), Text(label("visit_type", r["visit_type"], plugin=r["plugin"])),
                          Text(label("status", r["status"]), style=style), Text(str(r["attempts"])), Text(r["id"]),
                          key=r["id"])
        codes = [r["id"] for r in self.rows]
        if keep in codes:
            index = codes.index(keep)
        if codes:
            table.move_cursor(row=min(index, len(codes) - 1))
        self.query_one("#title", Static).update(f"{self.TITLE} · {self.session.staff_name()} · {len(codes)} 个待回访")
        self.seen_head = self.session.head()

    def highlighted(self) -> str | None:
        table = self.query_one("#queue", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return str(self.rows[table.cursor_row]["id"])

    def open(self, code: str) -> None:
        """Show the call sheet of `code` (a recorded read of the subject's data, G8)."""
        try:
            sheet = self.session.sheet(code)
        except Exception as e:
            self.say(error_text(e))
            return
        self.current = sheet
        self.query_one("#sheet", Static).update(render_call_sheet(sheet))  # as `huifang show` prints it

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open(str(event.row_key.value))

    def chosen(self) -> str | None:
        """The follow-up acted on: the one highlighted, its call sheet opened first."""
        code = self.highlighted()
        if code is None:
            self.say("队列为空 (nothing to call)")
            return None
        if self.current is None or self.current.followup != code:
            self.open(code)
        return code

    # -- actions ---------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.reload()
        self.say("已刷新")

    def action_next(self) -> None:
        table = self.query_one("#queue", DataTable)
        if not self.rows:
            self.say("队列为空 (nothing to call)")
            return
        table.move_cursor(row=(table.cursor_row + 1) % len(self.rows))
        code = self.highlighted()
        if code is not None:
            self.open(code)

    def action_attempt(self) -> None:
        code = self.chosen()
        if code is None or self.current is None:
            return
        channel = str(self.current.channel)

        def done(values: dict[str, Any] | None) -> None:
            if not values:
                self.say("未记录 (cancelled)")
                return
            self.act(lambda: self.session.attempt(code, channel, values["outcome"]),
                     f"{code}: 已记录尝试 {label('outcome', values['outcome'])}")

        self.ask(self.session.outcome_form(), done, review=False)

    def action_complete(self) -> None:
        code = self.chosen()
        if code is None:
            return
        try:
            form = self.session.survey(code)
        except Exception as e:
            self.say(error_text(e))
            return

        def done(values: dict[str, Any] | None) -> None:
            if values is None:
                self.say("未保存 (nothing saved)")
                return
            self.act(lambda: self.session.complete(code, values), f"{code}: 回访已完成")

        self.ask(form, done)

    def action_ticket(self) -> None:
        code = self.chosen()
        if code is None or self.current is None:
            return
        form = self.session.ticket_form(code)

        def done(values: dict[str, Any] | None) -> None:
            if values is None:
                self.say("未开问题件 (cancelled)")
                return
            self.act(lambda: self.session.open_ticket(code, values), f"{code}: 已开问题件")

        self.ask(form, done)

    def ask(self, form: Form, done: Callable[[dict[str, Any] | None], None], review: bool = True) -> None:
        """Fill `form` in the panel under the call sheet, then `done` with the values (None: cancelled)
        and the keys back to the queue."""
        panel = self.query_one(FormPanel)
        if panel.form is not None:
            self.say("先完成或取消当前表单 (Esc)")
            return

        def back(values: dict[str, Any] | None) -> None:
            self.query_one("#queue", DataTable).focus()
            done(values)

        panel.start(form, back, review)

    def act(self, write: Callable[[], list[str]], done: str) -> None:
        """Run one write; say what happened (with the engine's messages) or why it was refused."""
        try:
            messages = write()
        except Exception as e:
            self.say(error_text(e))
            return
        if self.current is not None:  # the call sheet as it is now (its attempts, answers, tickets)
            self.open(self.current.followup)
        self.reload()
        self.say(" · ".join([done, *messages]))


