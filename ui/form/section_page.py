"""One section of the form on screen: its questions, or a repeating section's items.

`SectionPage` builds a section's widgets from the session (a long list of items one line per
item until opened: `ui.form.widgets.ItemList`), keeps visibility and computed values current
after an edit (only the fields that can change are asked), shows problems inline and in a
GOV.UK-style error summary (`ErrorSummary`), and moves the focus to a problem's field, opening
its item first when that item is still closed. Showing problems costs time linear in their
number: each is matched to its field, or to its closed item, by lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from forms.engine import Problem, Session
from forms.model import Question, Section
from forms.paths import parse_answer_path
from ui.form.widgets import (
    FieldAdapter,
    FieldContext,
    GroupAdapter,
    ItemCard,
    ItemList,
    WrappingLink,
    describe,
)
from ui.scaling import relative_font
from ui.tasks import emit


def _holder(path: str) -> tuple[str, int | None]:
    """Where an answer is kept, as the session reads it: the path of the section, item or
    group, and the group's item index (``family_views.contributors[0].name`` →
    ``("family_views.contributors", 0)``; ``provision[3].what`` → ``("provision[3]", None)``)."""
    parsed = parse_answer_path(path)
    if parsed is None or parsed.question is None:
        raise ValueError(f"Not a question path: {path}")
    holder = parsed.section if parsed.item is None else f"{parsed.section}[{parsed.item}]"
    if parsed.field is not None:
        return f"{holder}.{parsed.question}", parsed.group_item
    return holder, None


def load_answers(adapters: Iterable[FieldAdapter], session: Session) -> None:
    """Show each adapter's stored answer, reading only what holds it (never the whole record)."""
    held: dict[tuple[str, int | None], dict[str, Any]] = {}
    for adapter in adapters:
        where = _holder(adapter.path)
        if where not in held:
            found = session.answer(where[0])
            if where[1] is not None:
                found = found[where[1]] if isinstance(found, list) and \
                    0 <= where[1] < len(found) else None
            held[where] = found if isinstance(found, dict) else {}
        container = held[where]
        adapter.set(container.get(adapter.question.id), container)


class ErrorSummary(QFrame):
    """'There is a problem', and a link per problem that moves the focus to its field."""

    entry_activated = Signal(str)  # the problem's path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorSummary")
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(3)
        layout = QVBoxLayout(self)
        self.title = QLabel("There is a problem", self)
        self.title.setObjectName("errorSummaryTitle")
        self.title.setWordWrap(True)
        relative_font(self.title, 1.3)
        self.title.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.title)
        self.list = QVBoxLayout()
        layout.addLayout(self.list)
        self.entries: list[QPushButton] = []
        self.setVisible(False)

    def set_problems(self, problems: list[Problem], labels: dict[str, str]) -> None:
        for entry in self.entries:
            entry.setParent(None)
            entry.deleteLater()
        self.entries = []
        for problem in problems:
            label = labels.get(problem.path, "")
            text = problem.message if not label or label in problem.message else (
                f"{label}: {problem.message}")
            entry = WrappingLink(text, self)
            entry.setObjectName("errorLink")
            entry.setFlat(True)
            entry.setCursor(Qt.CursorShape.PointingHandCursor)
            entry.setAutoDefault(False)
            entry.setProperty("path", problem.path)
            describe(entry, text, "Go to this answer")
            entry.clicked.connect(lambda _c=False, p=problem.path: emit(self.entry_activated, p))
            self.list.addWidget(entry)
            entry.show()  # a child added to a shown frame stays hidden until shown
            self.entries.append(entry)
        # GOV.UK's error summary: the links come straight after its heading in the Tab order.
        previous: QWidget = self.title
        for entry in self.entries:
            QWidget.setTabOrder(previous, entry)
            previous = entry
        count = len(problems)
        self.title.setText("There is a problem" if count == 1 else
                           f"There are {count} problems")
        describe(self.title, self.title.text(), "The list below links to each answer to fix.")
        self.setVisible(bool(problems))



class SectionPage(QWidget):
    """One section's questions (or a repeating section's items) built from the session."""

    changed = Signal(str, object)
    items_requested = Signal(str, str, int, int)

    def __init__(self, section: Section, ctx: FieldContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.ctx = ctx
        self.adapters: dict[str, FieldAdapter] = {}
        self._top: list[FieldAdapter] = []  # a plain section's own questions, in order
        self._problems: list[Problem] = []
        self._marked: set[ItemCard] = set()  # closed items shown with answers to fix
        self._erred: set[FieldAdapter] = set()  # fields showing an error
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        self.heading = QLabel(section.title, self)
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        relative_font(self.heading, 1.7)
        self.heading.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        describe(self.heading, section.title, section.help)
        layout.addWidget(self.heading)
        self.summary = ErrorSummary(self)
        layout.addWidget(self.summary)
        if section.help:
            help_label = QLabel(section.help, self)
            help_label.setObjectName("sectionHelp")
            help_label.setWordWrap(True)
            layout.addWidget(help_label)
        self.item_list: ItemList | None = None
        if section.repeat:
            count = ctx.session().item_count(section.id)
            self.item_list = ItemList(section.id, section.item_label, section.questions,
                                      section_id=section.id, ctx=ctx, count=count,
                                      max_items=section.max_items, parent=self)
            self.item_list.requested.connect(self.items_requested)
            self.item_list.opened.connect(self._adopt)
            layout.addWidget(self.item_list)
            for adapter in self.item_list.adapters:
                self._register(adapter)
        else:
            for question in section.questions:
                adapter = ctx.build(question, f"{section.id}.{question.id}", section.id, self)
                layout.addWidget(adapter.widget)
                self._top.append(adapter)
                self._register(adapter)
        self.footer = QHBoxLayout()
        self.check_button = QPushButton("Check this section", self)
        self.check_button.setAutoDefault(False)
        self.next_button = QPushButton("Next section", self)
        self.next_button.setObjectName("primaryButton")
        self.next_button.setAutoDefault(False)
        self.footer.addWidget(self.check_button)
        self.footer.addWidget(self.next_button)
        self.footer.addStretch(1)
        layout.addLayout(self.footer)
        layout.addStretch(1)

    def in_scroll_area(self, parent: QWidget) -> QScrollArea:
        """The page in its own scroll area (kept while the page is: switching only flips)."""
        scroller = QScrollArea(parent)
        scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no invisible Tab stop
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(self)
        return scroller

    @override
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The two buttons side by side when they fit, else one above the other (no sideways
        # scrolling at large text sizes).
        side_by_side = (self.check_button.sizeHint().width() + self.next_button.sizeHint().width()
                        + 80 <= event.size().width())
        self.footer.setDirection(QHBoxLayout.Direction.LeftToRight if side_by_side
                                 else QHBoxLayout.Direction.TopToBottom)

    def _register(self, adapter: FieldAdapter) -> None:
        for each in adapter.adapters():
            self.adapters[each.path] = each
            each.changed.connect(self.changed)
            each.items_requested.connect(self.items_requested)
            each.adapters_added.connect(self._adopt)

    def _adopt(self, built: list[FieldAdapter]) -> None:
        """An item was opened or added: its fields are shown as the session has them."""
        for adapter in built:
            self.adapters[adapter.path] = adapter
            adapter.changed.connect(self.changed)
            adapter.items_requested.connect(self.items_requested)
            adapter.adapters_added.connect(self._adopt)
        self.reindex()
        session = self.ctx.session()
        load_answers(built, session)
        self._refresh(built, session)
        if self._problems:
            self.show_problems(self._problems)

    def reindex(self) -> None:
        """The adapters by their paths again, in the form's order (after items moved)."""
        ordered = self.item_list.adapters if self.item_list is not None else self._top
        self.adapters = {each.path: each for adapter in ordered for each in adapter.adapters()}
        live = set(self.adapters.values())
        self._erred &= live  # a removed item's fields are gone
        self._marked = {card for card in self._marked if card in card.owner.cards}

    def load(self, session: Session) -> None:
        load_answers(self.adapters.values(), session)

    def refresh(self, session: Session) -> None:
        """Visibility and computed values, after every edit."""
        self._refresh(self.adapters.values(), session)

    @staticmethod
    def _refresh(adapters: Iterable[FieldAdapter], session: Session) -> None:
        for adapter in adapters:
            visible = session.is_visible(adapter.path)
            if adapter.widget.isHidden() == visible:  # only a change costs a layout pass
                adapter.widget.setVisible(visible)
            if adapter.dynamic:
                adapter.refresh(session)

    def item_list_at(self, path: str) -> ItemList | None:
        """The list of a repeating section or group by its path (``family_views.contributors``)."""
        if self.item_list is not None and self.item_list.path == path:
            return self.item_list
        group = self.adapters.get(path)
        return group.items if isinstance(group, GroupAdapter) else None

    def change_items(self, path: str, action: str, index: int, to: int) -> QWidget | None:
        """Draw an item added, removed or moved (only its card is touched); the widget now
        holding the focus, or None when the path is no list of this page."""
        item_list = self.item_list_at(path)
        if item_list is None:
            return None
        target: QWidget = item_list.add_button
        if action == "add":
            item_list.append_item()  # its fields are loaded and shown through `_adopt`
            card = item_list.cards[-1]
            first = next((a for a in card.adapters if not a.widget.isHidden()), None)
            target = first.primary() if first is not None else card.buttons["remove"]
        elif action == "remove":
            item_list.remove_item(index)
            self.reindex()
        else:
            item_list.move_item(index, to)
            self.reindex()
            buttons = item_list.cards[to].buttons
            target = buttons["up"] if buttons["up"].isEnabled() else buttons["down"]
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return target

    def card_for(self, path: str) -> ItemCard | None:
        """The item card an answer's path falls in (open or closed), if any."""
        parsed = parse_answer_path(path, whole=False)
        if parsed is None:
            return None
        if parsed.item is not None and self.item_list is not None:
            holder, index = self.item_list, parsed.item
        elif parsed.question is not None and parsed.group_item is not None:
            group_path = parsed.section if parsed.item is None else \
                f"{parsed.section}[{parsed.item}]"
            holder_list = self.item_list_at(f"{group_path}.{parsed.question}")
            if holder_list is None:
                return None
            holder, index = holder_list, parsed.group_item
        else:
            return None
        return holder.cards[index] if 0 <= index < len(holder.cards) else None

    def adapter_for_path(self, path: str) -> tuple[FieldAdapter | None, str | None]:
        """The adapter showing a problem's path, and which part of it."""
        # By lookup, not by a scan: showing n problems costs time linear in n.
        adapter = self.adapters.get(path)
        if adapter is not None:
            return adapter, None
        if path.endswith("_other"):
            adapter = self.adapters.get(path.removesuffix("_other"))
            if adapter is not None:
                return adapter, "other"
        probe = path
        while "." in probe:  # the longest own path the problem's path goes inside
            probe = probe.rsplit(".", 1)[0]
            adapter = self.adapters.get(probe)
            if adapter is not None:
                return adapter, path[len(probe) + 1:]
        return None, None

    def _closed_label(self, card: ItemCard, path: str) -> str:
        """A closed item's field named as its adapter would be ("Outcome 7: By when")."""
        parsed = parse_answer_path(path.removesuffix("_other"), whole=False)
        name = None if parsed is None else (parsed.field or parsed.question)
        question = next((q for q in card.owner.questions if q.id == name), None)
        return f"{card.name}: {question.label}" if isinstance(question, Question) else card.name

    def show_problems(self, problems: list[Problem]) -> None:
        self._problems = problems
        by_adapter: dict[str, list[Problem]] = {}
        closed: dict[ItemCard, int] = {}
        labels = {}
        for problem in problems:
            adapter, sub = self.adapter_for_path(problem.path)
            if adapter is not None:
                by_adapter.setdefault(adapter.path, []).append(problem)
                labels[problem.path] = adapter.question.label + (f" ({sub})" if sub else "")
                continue
            card = self.card_for(problem.path)
            if card is not None and not card.is_open:
                closed[card] = closed.get(card, 0) + 1
                labels[problem.path] = self._closed_label(card, problem.path)
        showing = {self.adapters[path]: found for path, found in by_adapter.items()}
        for adapter in self._erred - showing.keys():
            adapter.show_errors([])
        for adapter, found in showing.items():
            adapter.show_errors(found)
        self._erred = set(showing)
        for card in self._marked - closed.keys():
            card.show_problem_count(0)
        for card, count in closed.items():
            card.show_problem_count(count)
        self._marked = set(closed)
        self.summary.set_problems(problems, labels)

    def focus_path(self, path: str) -> QWidget:
        adapter, sub = self.adapter_for_path(path)
        if adapter is None:
            card = self.card_for(path)
            if card is not None and not card.is_open:
                card.open()  # a closed item: its questions are built, then focused
                adapter, sub = self.adapter_for_path(path)
        if adapter is None:
            if self.item_list is not None:
                self.item_list.add_button.setFocus(Qt.FocusReason.OtherFocusReason)
                return self.item_list.add_button
            self.heading.setFocus(Qt.FocusReason.OtherFocusReason)
            return self.heading
        return adapter.focus(sub)
